"""Configuration read from environment variables that `template.yaml` sets for each function.

Every variable is documented in the README's "Environment variables" table; keep the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number") from exc


@dataclass(frozen=True)
class Settings:
    artifact_bucket: str | None
    registry_table: str | None
    health_table: str | None
    pricing_table: str | None
    pricing_catalog_table: str | None
    reprice_queue_url: str | None
    risk_state_table: str | None
    risk_results_table: str | None
    risk_outcomes_queue_url: str | None
    admin_key_parameter: str | None
    model_refresh_seconds: float
    model_cache_dir: str
    max_body_bytes: int
    heartbeat_seconds: float

    def need(self, field: str) -> str:
        """The value of a setting this function cannot work without, or a ConfigError naming its variable."""
        value = getattr(self, field)
        if not value:
            raise ConfigError(f"setting {field} ({ENV_NAMES[field]}) is not configured for this function")
        return str(value)


ENV_NAMES = {
    "artifact_bucket": "ARTIFACT_BUCKET",
    "registry_table": "MODEL_REGISTRY_TABLE",
    "health_table": "HEALTH_TABLE",
    "pricing_table": "PRICING_TABLE",
    "pricing_catalog_table": "PRICING_CATALOG_TABLE",
    "reprice_queue_url": "REPRICE_REQUESTS_QUEUE_URL",
    "risk_state_table": "RISK_STATE_TABLE",
    "risk_results_table": "RISK_RESULTS_TABLE",
    "risk_outcomes_queue_url": "RISK_OUTCOMES_QUEUE_URL",
    "admin_key_parameter": "ADMIN_API_KEY_PARAMETER",
    "model_refresh_seconds": "MODEL_REFRESH_SECONDS",
    "model_cache_dir": "MODEL_CACHE_DIR",
    "max_body_bytes": "MAX_BODY_BYTES",
    "heartbeat_seconds": "HEARTBEAT_SECONDS",
}


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ.get
    return Settings(
        artifact_bucket=env(ENV_NAMES["artifact_bucket"]) or None,
        registry_table=env(ENV_NAMES["registry_table"]) or None,
        health_table=env(ENV_NAMES["health_table"]) or None,
        pricing_table=env(ENV_NAMES["pricing_table"]) or None,
        pricing_catalog_table=env(ENV_NAMES["pricing_catalog_table"]) or None,
        reprice_queue_url=env(ENV_NAMES["reprice_queue_url"]) or None,
        risk_state_table=env(ENV_NAMES["risk_state_table"]) or None,
        risk_results_table=env(ENV_NAMES["risk_results_table"]) or None,
        risk_outcomes_queue_url=env(ENV_NAMES["risk_outcomes_queue_url"]) or None,
        admin_key_parameter=env(ENV_NAMES["admin_key_parameter"]) or None,
        model_refresh_seconds=_number(ENV_NAMES["model_refresh_seconds"], 30.0),
        model_cache_dir=env(ENV_NAMES["model_cache_dir"]) or "/tmp/commerce-ai/models",
        max_body_bytes=int(_number(ENV_NAMES["max_body_bytes"], 1_048_576)),
        heartbeat_seconds=_number(ENV_NAMES["heartbeat_seconds"], 60.0),
    )

"""Configuration read from environment variables that `template.yaml` sets for each function.

Settings are declared beside the code that uses them: the platform's here (`Settings`), a capability's
in `commerce_ai/<capability>/settings.py`, as a frozen dataclass of `EnvSettings` whose fields are
`env_setting("VARIABLE", ...)`, read through `settings_reader(...)`:

    @dataclass(frozen=True)
    class PricingSettings(EnvSettings):
        pricing_table: str | None = env_setting("PRICING_TABLE")

    settings = settings_reader(PricingSettings)   # settings().need("pricing_table")

Nothing central lists them: `declared_variables()` finds every `settings.py` under `commerce_ai`, and
the tests check that the template sets only declared variables and that the README documents each one.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from types import ModuleType
from typing import Any, Self, TypeVar

import commerce_ai


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


def number(name: str, raw: str) -> float:
    """A number from variable `name`, or a ConfigError naming it."""
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number") from exc


def whole_number(name: str, raw: str) -> int:
    return int(number(name, raw))


def _number(name: str, default: float) -> float:
    """Variable `name` as a number, `default` when unset or blank: kept for settings modules that read the
    environment themselves (a plain dataclass and ENV_NAMES, the style before EnvSettings)."""
    raw = os.environ.get(name)
    return default if raw is None or raw.strip() == "" else number(name, raw)


def env_setting(variable: str, default: Any = None, parse: Callable[[str, str], Any] | None = None) -> Any:
    """A settings field read from environment variable `variable`; unset or blank means `default`.
    `parse(variable, raw)` turns the text into the value (default: the text itself)."""
    return field(default=default, metadata={"env": variable, "parse": parse})


class EnvSettings:
    """Base of a frozen dataclass whose fields are `env_setting(...)`s."""

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name -> environment variable."""
        return {f.name: f.metadata["env"] for f in fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def from_environment(cls) -> Self:
        values: dict[str, Any] = {}
        for spec in fields(cls):  # type: ignore[arg-type]
            raw = os.environ.get(spec.metadata["env"])
            if raw is None or raw.strip() == "":
                continue  # the field's default
            parse = spec.metadata["parse"]
            values[spec.name] = parse(spec.metadata["env"], raw) if parse else raw
        return cls(**values)

    def need(self, name: str) -> str:
        """The value of a setting this function cannot work without, or a ConfigError naming its variable."""
        value = getattr(self, name)
        if not value:
            variable = self.env_names()[name]
            raise ConfigError(f"setting {name} ({variable}) is not configured for this function")
        return str(value)


S = TypeVar("S", bound=EnvSettings)


def settings_reader(kind: type[S]) -> functools._lru_cache_wrapper[S]:
    """`kind` read from the environment once, then cached (a warm container keeps its configuration;
    tests call `clear_cached_settings()` after changing the environment)."""

    @functools.lru_cache(maxsize=1)
    def read() -> S:
        return kind.from_environment()

    return read


@dataclass(frozen=True)
class Settings(EnvSettings):
    """What the platform reads: the registry, health, admin key, model loading and request limits."""

    artifact_bucket: str | None = env_setting("ARTIFACT_BUCKET")
    registry_table: str | None = env_setting("MODEL_REGISTRY_TABLE")
    health_table: str | None = env_setting("HEALTH_TABLE")
    admin_key_parameter: str | None = env_setting("ADMIN_API_KEY_PARAMETER")
    model_refresh_seconds: float = env_setting("MODEL_REFRESH_SECONDS", 30.0, number)
    model_cache_dir: str = env_setting("MODEL_CACHE_DIR", "/tmp/commerce-ai/models")
    max_body_bytes: int = env_setting("MAX_BODY_BYTES", 1_048_576, whole_number)
    heartbeat_seconds: float = env_setting("HEARTBEAT_SECONDS", 60.0, number)


settings = settings_reader(Settings)
ENV_NAMES = Settings.env_names()


@dataclass(frozen=True)
class AccessSettings(EnvSettings):
    """The HTTP API's callers and scopes, CallerAuthorizerFunction's environment: `commerce_ai.access` parses
    these (the local gateway reads them from the template, the authorizer from its environment)."""

    route_scopes: str = env_setting("ROUTE_SCOPES", "")
    caller_scopes: str = env_setting("CALLER_SCOPES", "")
    caller_keys: str = env_setting("CALLER_KEYS", "")
    caller_rate_limits: str = env_setting("CALLER_RATE_LIMITS", "")
    caller_usage_keys: str = env_setting("CALLER_USAGE_KEYS", "")


# -------------------------------------------------------------------------------- discovery


def settings_modules() -> list[ModuleType]:
    """This module and every `commerce_ai.<package>.settings` module, imported."""
    found: list[ModuleType] = [importlib.import_module(__name__)]
    for package in pkgutil.iter_modules(commerce_ai.__path__, "commerce_ai."):
        if package.ispkg and importlib.util.find_spec(f"{package.name}.settings") is not None:
            found.append(importlib.import_module(f"{package.name}.settings"))
    return found


def _declared_in(module: ModuleType) -> dict[str, str]:
    names: dict[str, str] = {}
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, EnvSettings) and value is not EnvSettings:
            names.update(value.env_names())
    # A settings module written in the older style (a plain dataclass) lists its variables in ENV_NAMES.
    names.update(getattr(module, "ENV_NAMES", {}))
    return names


def declared_variables() -> set[str]:
    """Every environment variable some settings module declares."""
    return {variable for module in settings_modules() for variable in _declared_in(module).values()}


def clear_cached_settings() -> None:
    """Forget every module's cached settings, so the next read sees the environment as it is now."""
    for module in settings_modules():
        forget = getattr(getattr(module, "settings", None), "cache_clear", None)
        if callable(forget):
            forget()

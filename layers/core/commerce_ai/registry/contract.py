"""The registry's HTTP contract: request and response bodies of `/health` and `/models` (README, "HTTP API")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Count, Timestamp
from commerce_ai.artifacts.manifest import NAME_PATTERN, VERSION_PATTERN
from commerce_ai.paging import PageQuery

_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=VERSION_PATTERN)
    force: bool = Field(default=False, description="Activate even if its holdout metrics are worse.")


class ModelPath(BaseModel):
    name: str = Field(pattern=NAME_PATTERN, description="Lowercase letters, digits and '-'.")


class ModelsQuery(PageQuery):
    limit: int = Field(default=50, ge=1, le=100, description="Models per page.")


class FunctionHealth(BaseModel):
    """One function's last heartbeat."""

    model_config = _OUT

    function: str
    status: Literal["ok", "failing", "stale"]
    updated_at: Timestamp
    cold_start_at: Timestamp
    invocations: Count
    errors: Count
    last_ok_at: Timestamp | None = None
    last_error_at: Timestamp | None = None
    last_error_type: str | None = None


class HealthReport(BaseModel):
    """Every function's health; `degraded` if any is failing."""

    model_config = _OUT

    status: Literal["ok", "degraded"]
    functions: list[FunctionHealth]


class StartingReport(BaseModel):
    """A local start-up (`commerce-ai up`) is still building models or seeding: come back later."""

    model_config = _OUT

    status: Literal["starting"] = "starting"
    waiting_for: list[str]


class ModelSummary(BaseModel):
    """A registered model: its active version and how many versions it has."""

    model_config = _OUT

    name: str
    active_version: str | None
    metrics: dict[str, Any] = Field(description="The active version's metrics.")
    versions: Count
    candidates: Count
    quarantined: Count


class ModelVersion(BaseModel):
    """One version of a model as the registry recorded it."""

    model_config = _OUT

    version: str
    state: Literal["active", "candidate", "quarantined"]
    reason: str | None = None
    registered_at: Timestamp
    manifest_sha256: str
    framework: str | None = None
    created_at: Timestamp | None = None
    git_commit: str | None = None
    metrics: dict[str, Any] | None = None
    training_data: dict[str, Any] | None = None
    feature_names: list[str] | None = None


class ModelDetail(BaseModel):
    """A model's versions, newest first, with the active version's input and output schema."""

    model_config = _OUT

    name: str
    active_version: str | None
    rollback_to: str | None
    active_schema: dict[str, Any] | None
    active_problem: str | None
    versions: list[ModelVersion]


class MetricRegression(BaseModel):
    """A holdout metric on which the new version is worse than the one it replaced."""

    model_config = _OUT

    metric: str
    candidate: float
    active: float
    better: Literal["lower", "higher"]


class ActiveVersion(BaseModel):
    """The model's active version after the change, and what a rollback would go back to."""

    model_config = _OUT

    name: str
    active_version: str
    rollback_to: str | None
    worse_than_previous: list[MetricRegression] = Field(
        default_factory=list, description="Forced activation only: the holdout metrics it is worse at."
    )

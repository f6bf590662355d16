"""Registry HTTP API (API Gateway -> Chalice), public reads: list models and versions, health.

Activation and rollback are `admin.py`'s, a function of its own whose role may write the registry table
(README, "Least privilege"); this one may only read it."""

from __future__ import annotations

import re

from chalice import Response

from commerce_ai import health
from commerce_ai.artifacts.manifest import NAME_PATTERN
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api, json_response
from commerce_ai.paging import Page, page_of_names
from commerce_ai.registry import service
from commerce_ai.registry.contract import (
    HealthReport,
    ModelDetail,
    ModelPath,
    ModelsQuery,
    ModelSummary,
    StartingReport,
)

app = json_api("registry")


def _registry() -> ModelRegistry:
    return ModelRegistry(settings().need("registry_table"))


def _model_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(f"model name {name!r} is not valid (lowercase letters, digits and '-')")
    return name


@app.route("/health", methods=["GET"], response=HealthReport, responses={503: StartingReport})
def get_health() -> HealthReport | Response:
    """Every function's last heartbeat: ok, failing, or stale after 24 h without one. While `commerce-ai up`
    still builds models or seeds, a 503 `starting` that says what it waits for (with Retry-After)."""
    table = settings().need("health_table")
    waiting_for = health.startup_waiting_for(table)
    if waiting_for is not None:
        response = json_response(503, StartingReport(waiting_for=waiting_for).model_dump(mode="json"))
        response.headers["Retry-After"] = "2"
        return response
    functions = health.read_all(table)
    status = "ok" if all(f["status"] != "failing" for f in functions) else "degraded"
    return HealthReport.model_validate({"status": status, "functions": functions})


@app.route("/models", methods=["GET"], query=ModelsQuery, response=Page[ModelSummary])
def get_models(query: ModelsQuery) -> Page[ModelSummary]:
    """Registered models by name, paged."""
    models = {m["name"]: m for m in service.list_models(_registry())}
    names, cursor = page_of_names(sorted(models), query.limit, query.cursor)
    return Page[ModelSummary](items=[ModelSummary.model_validate(models[n]) for n in names], next_cursor=cursor)


@app.route("/models/{name}", path_params=ModelPath, methods=["GET"], response=ModelDetail, errors=(404,))
def get_model(name: str) -> ModelDetail:
    """A model's versions, newest first, and its active version's schema."""
    store = ArtifactStore(settings().need("artifact_bucket"))
    return ModelDetail.model_validate(service.describe_model(_registry(), store, _model_name(name)))

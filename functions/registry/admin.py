"""Registry HTTP API (API Gateway -> Chalice), admin: activate a model version, roll back.

A function of its own (RegistryAdminFunction), so that the public reads (`app.py`) run with a role that
cannot write the registry table."""

from __future__ import annotations

import re

from commerce_ai.artifacts.manifest import NAME_PATTERN
from commerce_ai.artifacts.registry import ModelRegistry, Pointer
from commerce_ai.config import settings
from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api
from commerce_ai.registry import service
from commerce_ai.registry.contract import ActivateRequest, ActiveVersion, MetricRegression, ModelPath

app = json_api("registry-admin")


def _registry() -> ModelRegistry:
    return ModelRegistry(settings().need("registry_table"))


def _active(pointer: Pointer, worse: list[MetricRegression] | None = None) -> ActiveVersion:
    rollback_to = pointer.history[-1] if pointer.history else None
    return ActiveVersion(
        name=pointer.model,
        active_version=pointer.active_version,
        rollback_to=rollback_to,
        worse_than_previous=worse or [],
    )


def _model_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(f"model name {name!r} is not valid (lowercase letters, digits and '-')")
    return name


@app.route(
    "/models/{name}/activate",
    path_params=ModelPath,
    methods=["POST"],
    request=ActivateRequest,
    response=ActiveVersion,
    admin=True,
    errors=(404, 409),
)
def activate_model(name: str, body: ActivateRequest) -> ActiveVersion:
    """Make a validated version the active one (activating the active version changes nothing). A version
    worse than the active one on a holdout metric needs `force`; the answer lists what it is worse at."""
    pointer, worse = service.activate(_registry(), _model_name(name), body.version, body.force)
    return _active(pointer, [MetricRegression.model_validate(r.__dict__) for r in worse])


@app.route(
    "/models/{name}/rollback",
    path_params=ModelPath,
    methods=["POST"],
    response=ActiveVersion,
    admin=True,
    errors=(404, 409),
)
def rollback_model(name: str) -> ActiveVersion:
    """Re-activate the previous version (takes no body)."""
    return _active(_registry().rollback(_model_name(name)))

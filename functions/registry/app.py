"""Registry HTTP API (API Gateway -> Chalice): list models and versions, activate, roll back, health."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai import health
from commerce_ai.artifacts.manifest import NAME_PATTERN, VERSION_PATTERN
from commerce_ai.artifacts.registry import ModelRegistry, Pointer
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api, json_response, parse_body, require_admin
from commerce_ai.registry import service

app = json_api("registry")


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(pattern=VERSION_PATTERN)


def _registry() -> ModelRegistry:
    return ModelRegistry(settings().need("registry_table"))


def _pointer_json(pointer: Pointer) -> dict[str, Any]:
    return {
        "name": pointer.model,
        "active_version": pointer.active_version,
        "rollback_to": pointer.history[-1] if pointer.history else None,
    }


def _model_name(name: str) -> str:
    if not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(f"model name {name!r} is not valid (lowercase letters, digits and '-')")
    return name


@app.route("/health", methods=["GET"])
def get_health() -> Any:
    table = settings().need("health_table")
    waiting_for = health.startup_waiting_for(table)
    if waiting_for is not None:  # a start-up (`commerce-ai up`) is still building models or seeding
        response = json_response(503, {"status": "starting", "waiting_for": waiting_for})
        response.headers["Retry-After"] = "2"
        return response
    functions = health.read_all(table)
    status = "ok" if all(f["status"] != "failing" for f in functions) else "degraded"
    return {"status": status, "functions": functions}


@app.route("/models", methods=["GET"])
def get_models() -> dict[str, Any]:
    return {"models": service.list_models(_registry())}


@app.route("/models/{name}", methods=["GET"])
def get_model(name: str) -> dict[str, Any]:
    store = ArtifactStore(settings().need("artifact_bucket"))
    return service.describe_model(_registry(), store, _model_name(name))


@app.route("/models/{name}/activate", methods=["POST"])
def activate_model(name: str) -> dict[str, Any]:
    require_admin(app.request())
    body = parse_body(app.request(), ActivateRequest)
    return _pointer_json(_registry().activate(_model_name(name), body.version))


@app.route("/models/{name}/rollback", methods=["POST"])
def rollback_model(name: str) -> dict[str, Any]:
    require_admin(app.request())
    return _pointer_json(_registry().rollback(_model_name(name)))

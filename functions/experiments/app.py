"""Experiments HTTP API (API Gateway -> Chalice), admin only: create, change and stop experiments, list
them, and read one with its results per arm."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Response

from commerce_ai.experiments import service
from commerce_ai.experiments.definitions import ExperimentChange
from commerce_ai.http import json_api, json_response, parse_body, require_admin

app = json_api("experiments")


@app.route("/experiments", methods=["GET"])
def list_experiments() -> dict[str, Any]:
    require_admin(app.request())
    query: dict[str, str] = dict(app.request().query_params or {})
    return service.page(query.get("limit"), query.get("cursor"))


@app.route("/experiments/{name}", methods=["GET"])
def get_experiment(name: str) -> dict[str, Any]:
    require_admin(app.request())
    return service.describe(name, datetime.now(UTC))


@app.route("/experiments/{name}", methods=["PUT"], content_types=["application/json"])
def put_experiment(name: str) -> Response:
    require_admin(app.request())
    body = parse_body(app.request(), ExperimentChange)
    experiment, created = service.put(name, body, datetime.now(UTC))
    return json_response(201 if created else 200, experiment)

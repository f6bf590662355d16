"""Experiments HTTP API (API Gateway -> Chalice), admin only: create, change and stop experiments, list
them, and read one with its results per arm."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Response

from commerce_ai.experiments import service
from commerce_ai.experiments.contract import (
    ExperimentChange,
    ExperimentDetail,
    ExperimentPath,
    ExperimentsQuery,
    ExperimentView,
)
from commerce_ai.http import json_api, json_response
from commerce_ai.paging import Page

app = json_api("experiments")


@app.route("/experiments", methods=["GET"], query=ExperimentsQuery, response=Page[ExperimentView], admin=True)
def list_experiments(query: ExperimentsQuery) -> Page[ExperimentView]:
    """Experiments' definitions in name order, paged (admin)."""
    return service.page(query.limit, query.cursor)


@app.route(
    "/experiments/{name}",
    path_params=ExperimentPath,
    methods=["GET"],
    response=ExperimentDetail,
    admin=True,
    errors=(404,),
)
def get_experiment(name: str) -> ExperimentDetail:
    """An experiment's definition and its results per arm: rates, differences against control, the plan (admin)."""
    return service.describe(name, datetime.now(UTC))


@app.route(
    "/experiments/{name}",
    path_params=ExperimentPath,
    methods=["PUT"],
    request=ExperimentChange,
    response=ExperimentView,
    responses={201: ExperimentView},
    admin=True,
    errors=(409,),
)
def put_experiment(name: str, body: ExperimentChange) -> Response:
    """Create (201) or change (200) an experiment; `{"status": "stopped"}` stops it for good (admin).

    Creating needs `arms`, `control`, `primary_metric`, `baseline_rate` and `minimum_detectable_effect`; a
    change sends only what changes. Arms are never removed (set a weight of 0) and keep what they serve. A
    change that lost a race with another, or whose `revision` is not the stored one, is a 409."""
    experiment, created = service.put(name, body, datetime.now(UTC))
    return json_response(201 if created else 200, experiment)

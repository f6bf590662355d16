"""Recommendations' functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The API
scenario serves a real `recommendations-ranker` built from the small synthetic shop (a few seconds, once)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.experiments import service as experiments_service
from commerce_ai.recommendations import service as recommendations_service
from commerce_ai.recommendations import store as recommendations_store
from tests.support.events import sample
from tests.support.recommendations import built_recommendations
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (
    recommendations_service.model_loader,
    recommendations_store.sessions,
    experiments_service.store,
    experiments_service.definitions,
)


def run_recommendations_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RecommendationsApiFunction", tmp_path)
    environment = STACK.function("RecommendationsApiFunction").environment
    world.ssm.values[environment["INGEST_API_KEY_PARAMETER"]] = "ingest"
    world.ssm.values[environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.serve(world.built("recommendations", built_recommendations))
    world.forget_setup()
    backend = {"Content-Type": "application/json", "x-api-key": "ingest"}
    with Client(handler) as client:
        got = client.http.get("/recommendations/u-1?n=5&filter=category%20%3D%20books", headers=backend)
        assert got.status_code == 200, got.body
        assert client.http.get("/recommendations/similar/i-3?n=3").status_code == 200
        body = json.dumps({"user_id": "u-1", "item_ids": ["i-1", "i-2", "nope"]}).encode()
        assert client.http.post("/recommendations/rank", headers=backend, body=body).status_code == 200


def run_recommendation_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RecommendationEventsFunction", tmp_path)
    world.forget_setup()
    events = sample("recommendations/RecommendationEventsFunction-BehaviourEventQueued.json")
    assert handler(events, context) == {"batchItemFailures": []}
    assert handler(events, context) == {"batchItemFailures": []}  # redelivered: the ledger skips them


SCENARIOS: dict[str, Scenario] = {
    "RecommendationsApiFunction": run_recommendations_api,
    "RecommendationEventsFunction": run_recommendation_events,
}

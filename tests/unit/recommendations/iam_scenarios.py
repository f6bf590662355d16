"""Recommendations' functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The API
scenario serves a real `recommendations-ranker` built from the small synthetic shop (a few seconds, once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.catalog.store import Catalog
from commerce_ai.experiments import service as experiments_service
from commerce_ai.recommendations import service as recommendations_service
from commerce_ai.recommendations import store as recommendations_store
from commerce_ai.stream.archive import EventArchive
from infra.runner.scheduler import scheduled_event
from tests.support.events import sample
from tests.support.recommendations import built_recommendations, small_shop_events, small_shop_items
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (
    recommendations_service.model_loader,
    recommendations_service.catalogue,
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


def run_recommendations_retrain(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RecommendationsRetrainFunction", tmp_path)
    environment = STACK.function("RecommendationsRetrainFunction").environment
    world.serve(world.built("recommendations", built_recommendations))  # the champion
    now = datetime.now(UTC)
    EventArchive(environment["BEHAVIOUR_EVENTS_BUCKET"], s3=world.aws.s3).write(small_shop_events(tmp_path, now))
    Catalog(environment["CATALOG_TABLE"], dynamodb=world.aws.dynamodb).put_many(small_shop_items(tmp_path, now))
    world.forget_setup()
    summary = handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)
    assert summary["outcome"] in ("candidate", "activated"), summary  # trained, compared, published, registered


SCENARIOS: dict[str, Scenario] = {
    "RecommendationsApiFunction": run_recommendations_api,
    "RecommendationEventsFunction": run_recommendation_events,
    "RecommendationsRetrainFunction": run_recommendations_retrain,
}

"""Recommendations on the emulator (real boto3, the template bootstrapped): a real `recommendations-ranker`
(the small synthetic shop, tests/support/recommendations.py) published and validated by the registry, the
API through the local gateway, behaviour events posted to POST /events, fanned out by the topic to
RecommendationEventsQueue and applied by its function, changing the next GET; the catalogue's stock;
a redelivered event applied once; erasure."""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.experiments import service as experiments_service
from commerce_ai.recommendations import service
from commerce_ai.recommendations import store as session_store
from commerce_ai.recommendations.store import SessionStore
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import publish
from tests.conftest import ADMIN_KEY, INGEST_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.invoke import in_process
from tests.support.recommendations import built_recommendations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ranker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    (built,) = built_recommendations(tmp_path_factory.mktemp("recommendations"))
    manifest = publish(store, built)
    drain(stack, registry, built.name, versions=len(registry.versions(built.name)) + 1)
    registry.activate(built.name, manifest.version)
    return manifest.version


@pytest.fixture(autouse=True)
def fresh_container(stack: Stack) -> None:
    """Handlers run in this process: each test starts with a fresh container's caches and an empty queue."""
    for cached in (
        service.model_loader,
        service.catalogue,
        session_store.sessions,
        experiments_service.store,
        experiments_service.definitions,
    ):
        cached.cache_clear()
    empty_queue(queue_source(stack).queue_url)


def queue_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("RecommendationEventsQueue"))["QueueUrl"]
    return QueueSource(
        "RecommendationEventsFunction", url, stack.arn("RecommendationEventsQueue"), batch_size=10, report_failures=True
    )


def apply_queued(stack: Stack, expected: int) -> None:
    """Run RecommendationEventsFunction over what the topic delivered, until `expected` records arrived."""
    source, received = queue_source(stack), 0
    while received < expected:
        batch = source.receive_batch(threading.Event())
        assert batch, f"only {received} of {expected} events reached RecommendationEventsQueue"
        received += len(batch)
        assert source.process(batch, in_process(stack)) == set()


def behaviour(user: str, kind: str, item: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"{user}-{kind}-{item}-{at.timestamp()}",
        "user_id": user,
        "session_id": "s-1",
        "event_type": kind,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "item_id": item,
        **fields,
    }


def post_events(stack: Stack, events: list[dict[str, Any]]) -> None:
    status, answer = call(gateway_for(stack), "POST", "/events", {"events": events}, key=INGEST_KEY)
    assert status == 202 and answer["accepted"] == len(events), answer


def recommend(stack: Stack, user: str, query: str = "n=9") -> dict[str, Any]:
    status, body = call(gateway_for(stack), "GET", f"/recommendations/{user}?{query}", key=INGEST_KEY)
    assert status == 200, body
    return body


def test_the_routes_their_callers_and_bad_input(stack: Stack, ranker: str) -> None:
    gateway = gateway_for(stack)
    known = recommend(stack, "u-1")
    assert known["model_version"] == ranker and not known["cold_start"] and len(known["recommendations"]) == 9
    assert known["experiment"] is None  # no ranker experiment defined
    assert known["recommendations"][0]["reason"].startswith("because you viewed")
    assert call(gateway, "GET", "/recommendations/u-1", key=ADMIN_KEY)[0] == 200
    assert call(gateway, "GET", "/recommendations/u-1")[0] == 401  # a user's history is not public
    assert call(gateway, "GET", "/recommendations/u-1", key="wrong")[0] == 401  # an unknown key
    cold = recommend(stack, f"new-{uuid.uuid4().hex[:6]}", "n=3")
    assert cold["cold_start"] and all(r["reason"].startswith("popular") for r in cold["recommendations"])
    assert cold["segment"] == {}  # the shop's own files name no user attributes: overall popularity
    status, refused = call(gateway, "GET", "/recommendations/new-1?segment=age_band:25-34", key=INGEST_KEY)
    assert status == 400 and "unknown attribute 'age_band'" in refused["Message"]

    status, refused = call(gateway, "GET", "/recommendations/u-1?filter=price%20%3C%3D%20cheap", key=INGEST_KEY)
    assert status == 400 and "clause 1" in refused["Message"] and "not a number" in refused["Message"]
    assert call(gateway, "GET", "/recommendations/u-1?n=0", key=INGEST_KEY)[0] == 400
    status, filtered = call(gateway, "GET", "/recommendations/u-1?filter=category%20%3D%20books", key=INGEST_KEY)
    assert status == 200 and {r["category"] for r in filtered["recommendations"]} == {"books"}

    status, similar = call(gateway, "GET", "/recommendations/similar/i-3?n=4")
    assert status == 200 and len(similar["similar"]) == 4
    assert call(gateway, "GET", "/recommendations/similar/no-such-item")[0] == 404

    body = {"user_id": "u-1", "item_ids": ["i-0", "i-1", "i-6", "ghost"]}
    status, ranked = call(gateway, "POST", "/recommendations/rank", body, key=INGEST_KEY)
    assert status == 200 and ranked["unknown_item_ids"] == ["ghost"] and len(ranked["ranked"]) == 3
    assert call(gateway, "POST", "/recommendations/rank", body)[0] == 401
    assert call(gateway, "POST", "/recommendations/rank", {"user_id": "u-1", "item_ids": []}, key=INGEST_KEY)[0] == 400


def test_events_change_the_next_recommendations_once_each_and_erasure_forgets(stack: Stack, ranker: str) -> None:
    user = f"it-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    assert recommend(stack, user)["cold_start"]

    # Views of three "music" items (i-2, i-7, i-12) go through POST /events and the topic:
    views = [behaviour(user, "view", f"i-{i}", now + timedelta(seconds=n)) for n, i in enumerate((2, 7, 12))]
    post_events(stack, views)
    apply_queued(stack, 3)
    after = recommend(stack, user)
    assert not after["cold_start"] and after["session_items"] == 3
    assert sum(r["category"] == "music" for r in after["recommendations"]) >= 5

    # not_interested removes the top item; a purchase excludes its item:
    top, second = after["recommendations"][0]["item_id"], after["recommendations"][1]["item_id"]
    dismiss = behaviour(user, "not_interested", top, now + timedelta(seconds=5))
    buy = behaviour(user, "purchase", second, now + timedelta(seconds=6))
    post_events(stack, [dismiss, buy])
    apply_queued(stack, 2)
    later = {r["item_id"] for r in recommend(stack, user)["recommendations"]}
    assert top not in later and second not in later

    # An impression delivered twice (a re-posted event) counts once (the stream's ledger):
    shown = behaviour(user, "impression", "i-17", now + timedelta(seconds=7), item_ids=["i-17", "i-22"])
    post_events(stack, [shown])
    post_events(stack, [shown])
    apply_queued(stack, 2)
    state = SessionStore(stack.physical_name("RecommendationSessionsTable")).get(user)
    assert state.impressions["i-17"][0] == 1

    # The catalogue's stock is respected:
    gone = sorted(later)[0]
    catalogue = Catalog(stack.physical_name("CatalogTable"))
    catalogue.put(CatalogItem(item_id=gone, title="Sold out", category="music", in_stock=False, updated_at=now))
    assert gone not in {r["item_id"] for r in recommend(stack, user)["recommendations"]}

    # The session item expires by TTL, and erasure deletes it at once:
    table = stack.physical_name("RecommendationSessionsTable")
    stored = aws.client("dynamodb").get_item(TableName=table, Key={"user_id": {"S": user}})["Item"]
    assert int(stored["expires_at"]["N"]) > now.timestamp() + 29 * 86_400
    SessionStore(table).erase(user)
    assert recommend(stack, user)["cold_start"]
    assert json.loads(stored["state"]["S"])["recent"]


def test_the_daily_retrain_reads_the_archive_and_activates_only_a_better_model(stack: Stack, ranker: str) -> None:
    """The schedule's handler path: archived events and the catalogue in, a candidate published and
    registered, activated only if it beat the champion on the same validation items."""
    from commerce_ai.recommendations.model import MODEL_NAME
    from commerce_ai.stream.archive import EventArchive
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event
    from tests.support.recommendations import small_shop_events, small_shop_items

    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    champion = registry.active_version(MODEL_NAME)
    now = datetime.now(UTC)
    scratch = Path(tempfile.mkdtemp(prefix="retrain-test-"))
    EventArchive(stack.physical_name("BehaviourEventsBucket")).write(small_shop_events(scratch, now))
    Catalog(stack.physical_name("CatalogTable")).put_many(small_shop_items(scratch, now))

    function = stack.function("RecommendationsRetrainFunction")
    summary = in_process(stack)("RecommendationsRetrainFunction", scheduled_event(rule_arn(stack, function)))

    assert summary["outcome"] in ("activated", "candidate"), summary
    assert summary["champion_version"] == champion and summary["items"] >= 161  # the new item i-new too
    beat = (summary["challenger_hr_at_10"], summary["challenger_ndcg_at_10"]) > (
        summary["champion_hr_at_10"],
        summary["champion_ndcg_at_10"],
    )
    assert summary["outcome"] == ("activated" if beat else "candidate")
    assert registry.get_version(MODEL_NAME, summary["version"]).state in ("candidate", "active")
    assert registry.active_version(MODEL_NAME) == (summary["version"] if beat else champion)
    # the new item nobody has touched is listed by its content neighbours (from the catalogue or the model)
    service.model_loader.cache_clear()
    status, similar = call(gateway_for(stack), "GET", "/recommendations/similar/i-new?n=3")
    assert status == 200 and len(similar["similar"]) == 3
    assert all(s["reason"] == "similar to Item new" and s["category"] == "books" for s in similar["similar"])
    registry.activate(MODEL_NAME, champion)  # the module's other tests expect the champion

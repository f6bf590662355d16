"""Training and serving compute the same features: one simulated history through the archive path
(records -> training frame -> examples at a cut-off) and through the live path (queue bodies -> the
consumer's fold into the stored profile -> the profile read back) gives equal vectors."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from commerce_ai.erasure import ErasureLog
from commerce_ai.propensity import service
from commerce_ai.propensity.features import feature_vector
from commerce_ai.propensity.store import ProfileStore
from commerce_ai.stream.consumer import EventConsumer, EventLedger
from commerce_ai.stream.schema import BehaviourEvent
from infra.runner.context import LambdaContext
from infra.runner.sqs_poller import sqs_event
from model_build.behaviour_events import events_frame
from model_build.propensity.clickstream import ClickstreamConfig, simulate
from model_build.propensity.dataset import examples
from tests.unit.fakes import FakeDynamoDB, sqs_message

ARN = "arn:aws:sqs:us-east-1:123456789012:commerce-ai-PropensityProfileEventsQueue"
CONFIG = ClickstreamConfig(users=4, days=40, sessions_per_day=0.8)


@pytest.fixture()
def live(monkeypatch: pytest.MonkeyPatch) -> ProfileStore:
    ddb = FakeDynamoDB({"profiles": ("user_id", "kind"), "erasures": ("user_hash",)})
    store = ProfileStore("profiles", ddb=ddb)
    monkeypatch.setattr(service, "store", lambda: store)
    return store


def erasures(store: ProfileStore) -> ErasureLog:
    return ErasureLog("erasures", ddb=store.ddb)


def history() -> tuple[str, list[BehaviourEvent]]:
    events = simulate(CONFIG)
    busiest = max({e.user_id for e in events}, key=lambda u: sum(e.user_id == u for e in events))
    return busiest, [e for e in events if e.user_id == busiest]


def archive_vector(events: list[BehaviourEvent], cutoff: float) -> list[float]:
    from datetime import UTC, datetime

    frame = events_frame(e.to_record() for e in events)
    made = examples(frame, [datetime.fromtimestamp(cutoff, tz=UTC)])
    assert len(made.users) == 1
    return [float(v) for v in made.features[0]]


def live_vector(store: ProfileStore, user: str, bodies: list[str], cutoff: float) -> list[float]:
    """Each body through the stream's consumer (with its ledger and the erasure check) into the stored profile."""
    ledger = EventLedger("ledger", ddb=FakeDynamoDB({"ledger": ("consumer", "event_id")}))
    consumer = EventConsumer(
        service.CONSUMER,
        apply=lambda e: service.apply_event(e, cutoff),
        ledger=lambda: ledger,
        erasures=lambda: erasures(store),
    )
    for start in range(0, len(bodies), 10):  # in queue batches of ten
        records = [sqs_message(f"m{start + i}", body) for i, body in enumerate(bodies[start : start + 10])]
        assert consumer.handle(sqs_event(records, ARN, "us-east-1"), LambdaContext("fn"))["batchItemFailures"] == []
    stored = store.get(user)
    assert stored is not None
    return [float(v) for v in feature_vector(stored.profile, cutoff)]


def test_the_archive_and_the_live_profile_give_equal_vectors(live: ProfileStore) -> None:
    user, events = history()
    assert len({e.event_type for e in events}) >= 6 and len(events) > 100
    cutoff = (events[-1].timestamp + timedelta(hours=1)).timestamp()
    bodies = [json.dumps(e.to_record()) for e in events]  # what the subscription queue delivers
    expected = archive_vector(events, cutoff)
    # float32: the training matrix's type, which the ONNX model reads too
    assert live_vector(live, user, bodies, cutoff) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_redelivered_and_reordered_events_change_nothing(live: ProfileStore) -> None:
    user, events = history()
    cutoff = (events[-1].timestamp + timedelta(hours=1)).timestamp()
    bodies = [json.dumps(e.to_record()) for e in events]
    delivered = bodies + random.Random(5).sample(bodies, 30)  # at least once: some come twice (the ledger)
    random.Random(6).shuffle(delivered)  # and out of order
    assert live_vector(live, user, delivered, cutoff) == pytest.approx(
        archive_vector(events, cutoff), rel=1e-6, abs=1e-6
    )


def test_events_of_an_erased_user_are_skipped_until_the_erasure(live: ProfileStore) -> None:
    user, events = history()
    middle = events[len(events) // 2].timestamp
    erasures(live).record(user, middle + timedelta(seconds=1))
    live_vector(live, user, [json.dumps(e.to_record()) for e in events], middle.timestamp())
    stored = live.get(user)
    assert stored is not None and stored.profile.first_seen is not None
    assert stored.profile.first_seen > middle.timestamp()

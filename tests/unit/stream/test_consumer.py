"""The shared subscription-queue consumer: exactly once in effect, poison records fail alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_ai import messages as messages_module
from commerce_ai.erasure import ErasureLog
from commerce_ai.stream import consumer as consumer_module
from commerce_ai.stream.consumer import LEDGER_DAYS, EventConsumer, EventLedger
from commerce_ai.stream.schema import BehaviourEvent
from infra.runner.context import LambdaContext
from infra.runner.sqs_poller import sqs_event
from tests.unit.fakes import FakeDynamoDB, sqs_message

TABLE = "ledger"
ERASURES = "erasures"
ARN = "arn:aws:sqs:us-east-1:123456789012:commerce-ai-ExperimentEventsQueue"


def body(n: int, **changes: Any) -> str:
    return json.dumps(
        {
            "event_id": f"e-{n}",
            "user_id": "u-1",
            "session_id": "s-1",
            "event_type": "click",
            "timestamp": "2026-12-05T10:00:00.000Z",
            "item_id": "sku-1",
            **changes,
        }
    )


class Effects:
    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.applied: list[str] = []
        self.fail_on = fail_on or set()

    def __call__(self, event: BehaviourEvent) -> None:
        if event.event_id in self.fail_on:
            raise RuntimeError("downstream is down")
        self.applied.append(event.event_id)


@pytest.fixture
def ddb() -> FakeDynamoDB:
    return FakeDynamoDB(key_schemas={TABLE: ("consumer", "event_id"), ERASURES: ("user_hash",)})


def consumer(name: str, effects: Effects, ddb: FakeDynamoDB) -> EventConsumer:
    ledger = EventLedger(TABLE, ddb, clock=lambda: 1_000_000.0)
    erasures = ErasureLog(ERASURES, ddb=ddb)
    return EventConsumer(name, effects, ledger=lambda: ledger, erasures=lambda: erasures)


def run(c: EventConsumer, *messages: dict[str, Any]) -> list[str]:
    result = c.handle(sqs_event(list(messages), ARN, "us-east-1"), LambdaContext("fn"))
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_a_redelivered_event_is_applied_once(ddb: FakeDynamoDB) -> None:
    effects = Effects()
    c = consumer("experiments", effects, ddb)
    assert run(c, sqs_message("m1", body(1)), sqs_message("m2", body(2)), sqs_message("m3", body(1))) == []
    assert run(c, sqs_message("m4", body(2))) == []  # redelivered later
    assert effects.applied == ["e-1", "e-2"]
    item = ddb.tables[TABLE][("experiments", "e-1")]
    assert item["expires_at"] == {"N": str(1_000_000 + LEDGER_DAYS * 86_400)}


def test_a_different_event_under_an_applied_id_is_refused_not_applied(
    ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(messages_module.logger, "warning", lambda msg, extra: warnings.append(msg))
    effects = Effects()
    c = consumer("experiments", effects, ddb)
    assert run(c, sqs_message("m1", body(1))) == []
    # the same id in another session: a reused key, which fails its record (to the DLQ) and changes nothing
    assert run(c, sqs_message("m2", body(1, session_id="s-2"))) == ["m2"]
    assert effects.applied == ["e-1"] and warnings == ["queue record reuses an idempotency key"]
    # an entry written before digests were kept counts as this event's
    del ddb.tables[TABLE][("experiments", "e-1")]["request_digest"]
    assert run(c, sqs_message("m3", body(1, session_id="s-2"))) == [] and effects.applied == ["e-1"]


def test_each_consumer_has_its_own_ledger_entries(ddb: FakeDynamoDB) -> None:
    first, second = Effects(), Effects()
    run(consumer("one", first, ddb), sqs_message("m1", body(1)))
    run(consumer("two", second, ddb), sqs_message("m1", body(1)))
    assert first.applied == second.applied == ["e-1"]


def test_a_failed_effect_leaves_no_entry_and_is_applied_on_retry(ddb: FakeDynamoDB) -> None:
    effects = Effects(fail_on={"e-2"})
    c = consumer("experiments", effects, ddb)
    assert run(c, sqs_message("m1", body(1)), sqs_message("m2", body(2))) == ["m2"]
    assert ("experiments", "e-2") not in ddb.tables[TABLE]
    effects.fail_on.clear()
    assert run(c, sqs_message("m2", body(2))) == []
    assert effects.applied == ["e-1", "e-2"]


def test_a_poison_record_fails_alone_and_is_logged_without_values(
    ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(consumer_module.logger, "warning", lambda msg, extra: warnings.append((msg, extra)))
    effects = Effects()
    c = consumer("experiments", effects, ddb)
    poison = [sqs_message("p1", "{not json"), sqs_message("p2", body(3, user_id="private person", price="9"))]
    failures = run(c, sqs_message("m1", body(1)), *poison)
    assert failures == ["p1", "p2"]
    assert effects.applied == ["e-1"]
    assert (warnings[0][1]["problems"], warnings[0][1]["fields"]) == (["invalid_json"], [])
    assert warnings[1][1]["fields"] == ["price", "user_id"]
    assert "private person" not in json.dumps(warnings)


def test_without_a_ledger_the_effect_must_be_idempotent_itself(ddb: FakeDynamoDB) -> None:
    effects = Effects()
    c = EventConsumer("archive-like", effects, ledger=None, erasures=None)
    run(c, sqs_message("m1", body(1)), sqs_message("m2", body(1)))
    assert effects.applied == ["e-1", "e-1"]
    assert ddb.log == []


def test_events_of_an_erased_user_up_to_the_erasure_are_skipped_with_one_read_per_batch(ddb: FakeDynamoDB) -> None:
    effects = Effects()
    c = consumer("profiles", effects, ddb)
    ErasureLog(ERASURES, ddb=ddb).record("u-gone", datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    ddb.log.clear()
    before = sqs_message("m1", body(1, user_id="u-gone", timestamp="2026-12-05T09:59:59.000Z"))
    at = sqs_message("m2", body(2, user_id="u-gone"))  # stamped at the erasure itself: in flight then
    after = sqs_message("m3", body(3, user_id="u-gone", timestamp="2026-12-05T10:00:01.000Z"))  # new activity
    other = sqs_message("m4", body(4, user_id="u-2"))
    assert run(c, before, at, after, other) == []
    assert effects.applied == ["e-3", "e-4"]
    assert [op for op, params in ddb.log if params["TableName"] == ERASURES] == ["BatchGetItem"]


def test_a_consumer_without_the_erasure_check_applies_every_event(ddb: FakeDynamoDB) -> None:
    effects = Effects()
    ErasureLog(ERASURES, ddb=ddb).record("u-gone", datetime(2026, 12, 5, 11, 0, tzinfo=UTC))
    c = EventConsumer("counts", effects, ledger=None, erasures=None)
    assert run(c, sqs_message("m1", body(1, user_id="u-gone"))) == []
    assert effects.applied == ["e-1"]


def test_batch_values_reads_identifiers_leniently() -> None:
    records = [
        sqs_message("m1", body(1, user_id="u-1", item_id="sku-1")),
        sqs_message("m2", body(2, user_id="u-2", item_id="sku-1")),
        sqs_message("m3", "not json"),
        sqs_message("m4", json.dumps(["a list"])),
        sqs_message("m5", body(5, user_id=7, item_id="has space")),
    ]
    event = sqs_event(records, ARN, "us-east-1")
    assert consumer_module.batch_values(event, "user_id") == {"u-1", "u-2"}
    assert consumer_module.batch_values(event, "item_id") == {"sku-1"}

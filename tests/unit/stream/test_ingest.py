"""Validating a batch event by event, and publishing the good ones ten per PublishBatch call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from commerce_ai.stream.ingest import Publisher, StreamUnavailable, validate
from commerce_ai.stream.schema import BehaviourEvent
from tests.unit.fakes import FakeSNS

TOPIC = "arn:aws:sns:us-east-1:123456789012:commerce-ai-BehaviourEventsTopic"


def raw(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "user_id": "u-1",
        "session_id": "s-1",
        "event_type": "view",
        "timestamp": "2026-12-05T10:00:00Z",
        "item_id": "sku-1",
        **changes,
    }


def events(count: int) -> list[BehaviourEvent]:
    return [BehaviourEvent.model_validate(raw(n)) for n in range(count)]


def test_a_bad_event_never_rejects_its_good_neighbours() -> None:
    batch = [raw(0), raw(1, price="2.49"), "not an object", raw(3), {"event_id": "e-4"}, raw(5, event_id=7)]
    result = validate(batch)
    assert [e.event_id for e in result.accepted] == ["e-0", "e-3"]
    rejected = {r.index: r for r in result.rejected}
    assert set(rejected) == {1, 2, 4, 5}
    assert rejected[1].event_id == "e-1"
    assert rejected[1].errors == [{"field": "price", "problem": "Input should be a valid number"}]
    assert rejected[2].event_id is None and rejected[2].errors[0]["field"] == "(event)"
    assert {e["field"] for e in rejected[4].errors} >= {"user_id", "session_id", "event_type", "timestamp"}
    assert rejected[5].event_id is None  # not a usable id, so not echoed


def test_rejections_never_echo_the_values_sent() -> None:
    result = validate([raw(0, user_id="secret person@x y")])
    assert "secret" not in json.dumps([r.as_json() for r in result.rejected])


def test_publish_sends_ten_per_call_with_the_record_and_its_type() -> None:
    sns = FakeSNS()
    assert Publisher(lambda: TOPIC, sns).publish(events(23)) == 3
    assert [len(c["Entries"]) for c in sns.calls] == [10, 10, 3]
    first = sns.published[0]
    assert first["TopicArn"] == TOPIC
    assert json.loads(first["Message"]) == events(1)[0].to_record()
    assert first["MessageAttributes"]["event_type"] == {"DataType": "String", "StringValue": "view"}


def test_entries_sns_failed_on_its_side_are_sent_again() -> None:
    sns = FakeSNS(fail_ids=[{"1", "4"}, {"4"}])
    Publisher(lambda: TOPIC, sns).publish(events(5))
    assert [len(c["Entries"]) for c in sns.calls] == [5, 2, 1]
    assert sorted(json.loads(p["Message"])["event_id"] for p in sns.published) == [f"e-{n}" for n in range(5)]


def test_a_topic_that_keeps_failing_is_a_503() -> None:
    sns = FakeSNS(fail_ids=[{"0"}, {"0"}, {"0"}])
    with pytest.raises(StreamUnavailable) as exc:
        Publisher(lambda: TOPIC, sns).publish(events(2))
    assert exc.value.status_code == 503


def test_a_sender_fault_is_not_retried() -> None:
    sns = FakeSNS(fail_ids=[{"0"}], sender_fault=True)
    with pytest.raises(StreamUnavailable):
        Publisher(lambda: TOPIC, sns).publish(events(1))
    assert len(sns.calls) == 1

"""The stream's queue handlers over in-memory AWS: poison records fail alone (or all, reported, not
raised), a failed archive write fails the batch so its redelivery writes the same objects, and a queued
event reusing an id taken in for a different event fails alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from commerce_ai.config import settings
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.sqs_poller import sqs_event
from infra.template import ROOT, Stack
from tests.unit.fakes import FakeAws, client_error, sqs_message

STACK = Stack()


def handler_of(monkeypatch: pytest.MonkeyPatch, logical_id: str, fake_aws: FakeAws | None = None) -> Any:
    fn = STACK.function(logical_id)
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    if fake_aws is not None and "STREAM_LEDGER_TABLE" in fn.environment:
        fake_aws.dynamodb.key_schemas[fn.environment["STREAM_LEDGER_TABLE"]] = ("consumer", "event_id")
    settings.cache_clear()
    handler = load_handler(fn.code_uri, fn.module, fn.attribute)
    return lambda event: handler(event, LambdaContext(fn.physical_name))


def sample_bodies() -> list[str]:
    sample = json.loads((ROOT / "events/stream/BehaviourArchiveFunction-EventsToArchive.json").read_text())
    return [r["body"] for r in sample["Records"]]


def event_of(queue: str, *messages: dict[str, Any]) -> dict[str, Any]:
    return sqs_event(list(messages), STACK.arn(queue), "us-east-1")


def failures(result: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in result["batchItemFailures"]]


def test_the_archive_writes_good_records_and_reports_poison(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> None:
    handle = handler_of(monkeypatch, "BehaviourArchiveFunction")
    good = [sqs_message(f"m{i}", body) for i, body in enumerate(sample_bodies())]
    result = handle(event_of("BehaviourArchiveQueue", *good, sqs_message("bad", '{"event_id": "x"}')))
    assert failures(result) == ["bad"]
    ((bucket, key),) = fake_aws.s3.objects
    assert bucket == STACK.physical_name("BehaviourEventsBucket") and key.startswith("events/dt=2026-12-05/")


def test_an_archive_batch_of_only_poison_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws
) -> None:
    handle = handler_of(monkeypatch, "BehaviourArchiveFunction")
    result = handle(event_of("BehaviourArchiveQueue", sqs_message("p1", "{"), sqs_message("p2", "[]")))
    assert failures(result) == ["p1", "p2"]
    assert fake_aws.s3.objects == {}


def test_a_failed_archive_write_fails_the_batch(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> None:
    handle = handler_of(monkeypatch, "BehaviourArchiveFunction")
    fake_aws.s3.fail_with = client_error("SlowDown", "PutObject")
    with pytest.raises(Exception, match="SlowDown"):
        handle(event_of("BehaviourArchiveQueue", sqs_message("m1", sample_bodies()[0])))


def test_queued_events_are_published_one_by_one_and_poison_fails_alone(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws
) -> None:
    handle = handler_of(monkeypatch, "BehaviourEventsQueueFunction", fake_aws)
    bodies = sample_bodies()
    result = handle(
        event_of(
            "BehaviourEventsQueue", sqs_message("m1", bodies[0]), sqs_message("bad", "{"), sqs_message("m2", bodies[1])
        )
    )
    assert failures(result) == ["bad"]
    assert [json.loads(p["Message"])["event_id"] for p in fake_aws.sns.published] == [
        json.loads(bodies[0])["event_id"],
        json.loads(bodies[1])["event_id"],
    ]
    assert fake_aws.sns.published[0]["TopicArn"] == STACK.arn("BehaviourEventsTopic")


def test_a_queued_event_reusing_an_id_for_a_different_event_fails_alone(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws
) -> None:
    handle = handler_of(monkeypatch, "BehaviourEventsQueueFunction", fake_aws)
    first = sample_bodies()[0]
    changed = json.dumps({**json.loads(first), "session_id": "s-other"})
    result = handle(
        event_of(
            "BehaviourEventsQueue",
            sqs_message("m1", first),
            sqs_message("again", first),
            sqs_message("reused", changed),
        )
    )
    assert failures(result) == ["reused"]  # to the DLQ after its receives; the resend passes
    assert len(fake_aws.sns.published) == 2

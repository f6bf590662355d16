"""One poison record in a batch: only it is retried, it reaches the DLQ after maxReceiveCount, and
the good records in the same batch are processed exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.registry import service
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.support.invoke import in_process


def test_poison_record_alone_is_retried_then_dead_lettered(
    stack: Stack,
    registry: ModelRegistry,
    publish_linear: Any,
    model_name: str,
    fast_queue: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, dlq = fast_queue
    sqs = aws.client("sqs")
    validations: Counter[tuple[str, str]] = Counter()
    real_validate = service.validate_version

    def counting_validate(store: Any, reg: Any, name: str, version: str, *args: Any, **kwargs: Any) -> Any:
        validations[(name, version)] += 1
        return real_validate(store, reg, name, version, *args, **kwargs)

    monkeypatch.setattr(service, "validate_version", counting_validate)

    # Given three good notifications (real S3 uploads) and one poison message in the same queue
    versions = [publish_linear(model_name, [float(i), 1.0, 1.0]).version for i in range(3)]
    poison = sqs.send_message(QueueUrl=url, MessageBody="{not an S3 event")["MessageId"]
    max_receives = stack.resources["ArtifactEventsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]

    # When the function consumes the queue the way the SQS event source would
    source = QueueSource(
        "ArtifactEventsFunction",
        url,
        stack.arn("ArtifactEventsQueue"),
        batch_size=10,
        window_seconds=2,
        report_failures=True,
    )
    invoke = in_process(stack)
    poison_deliveries = 0

    def watching_invoke(function: str, event: dict[str, Any]) -> Any:
        nonlocal poison_deliveries
        poison_deliveries += sum(1 for r in event["Records"] if r["messageId"] == poison)
        return invoke(function, event)

    first_batch = source.receive_batch(stop=threading.Event())
    assert {m["MessageId"] for m in first_batch} >= {poison}
    kept = source.process(first_batch, watching_invoke)
    assert kept == {poison}, "only the poison record may return to the queue"

    deadline = time.monotonic() + 60
    dead: list[dict[str, Any]] = []
    while not dead:
        assert time.monotonic() < deadline, "poison message never reached the DLQ"
        source.poll_once(watching_invoke, wait_seconds=1)
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])

    # Then the poison is in the DLQ after exactly maxReceiveCount deliveries
    assert [m["Body"] for m in dead] == ["{not an S3 event"]
    assert poison_deliveries == max_receives
    # And each good record was validated exactly once and registered
    assert validations == Counter({(model_name, v): 1 for v in versions})
    assert sorted(v.version for v in registry.versions(model_name)) == sorted(versions)
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
    assert json.loads(json.dumps(source.stats))["failed"] == max_receives

"""`commerce-ai redrive` after an outage (issue 18, part 3): a DLQ's messages go back to their source queue as
new messages, so none is older than the queue's retention, and a replay stays idempotent."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from commerce_ai import aws
from commerce_ai.messages import REDRIVEN_FROM
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import entity_key
from infra.redrive import redrive, source_queue
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.integration.conftest import empty_queue
from tests.support.invoke import in_process


def account_event(event_id: str | None) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    event = {
        "event_type": "login",
        "user_id": f"u-redrive-{tag}",
        "device_id": f"d-redrive-{tag}",
        "ip": "198.51.100.7",
        "success": False,
        "timestamp": datetime.now(UTC).isoformat(),
        "location": {"lat": 52.5, "lon": 13.4},
    }
    return {**event, "event_id": event_id} if event_id else event


def urls(stack: Stack) -> tuple[str, str]:
    sqs = aws.client("sqs")
    queue = source_queue(stack, "RiskAccountEventsDLQ")
    assert queue == "RiskAccountEventsQueue"
    return (
        sqs.get_queue_url(QueueName=stack.physical_name("RiskAccountEventsDLQ"))["QueueUrl"],
        sqs.get_queue_url(QueueName=stack.physical_name(queue))["QueueUrl"],
    )


def test_a_redrive_resends_dead_letters_as_new_messages_and_replays_apply_once(stack: Stack) -> None:
    sqs = aws.client("sqs")
    dlq, queue = urls(stack)
    empty_queue(dlq)
    empty_queue(queue)
    # Given three account events that failed every attempt during an outage (one without an event_id)
    bodies = [account_event(f"e-redrive-{uuid.uuid4().hex[:8]}"), account_event(f"e-redrive-{uuid.uuid4().hex[:8]}")]
    bodies.append(account_event(None))
    first_ids = [sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(b))["MessageId"] for b in bodies]

    # When an operator redrives the DLQ
    result = redrive(sqs, dlq, queue)

    # Then every message is on the source queue as a new message carrying its first id, and the DLQ is empty
    assert (result.moved, result.failed) == (3, 0)
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []
    source = QueueSource(
        "RiskAccountEventsFunction", queue, stack.arn("RiskAccountEventsQueue"), batch_size=10, report_failures=True
    )
    invoke = in_process(stack)
    outcomes: list[Any] = []

    def counting(function: str, event: dict[str, Any]) -> Any:
        for record in event["Records"]:
            attribute = record["messageAttributes"][REDRIVEN_FROM]
            outcomes.append((json.loads(record["body"]), attribute["stringValue"]))
        return invoke(function, event)

    while source.poll_once(counting, threading.Event(), wait_seconds=1):
        pass
    assert sorted(first for _, first in outcomes) == sorted(first_ids)
    assert sorted(json.dumps(b, sort_keys=True) for b, _ in outcomes) == sorted(
        json.dumps(b, sort_keys=True) for b in bodies
    )
    store = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"))
    assert all(store.result(f"event#{b['event_id']}") for b in bodies[:2])  # applied, marked once
    users = [entity_key("user", b["user_id"]) for b in bodies]
    before, _ = store.read(users)
    assert len(before) == 3  # each failed login counted

    # And a second redrive of the same messages (applied, but their delete was lost) changes nothing
    for body, first in outcomes:
        attributes = {REDRIVEN_FROM: {"DataType": "String", "StringValue": first}}
        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps(body), MessageAttributes=attributes)
    assert redrive(sqs, dlq, queue).moved == 3
    replayed: list[Any] = []

    def applied(function: str, event: dict[str, Any]) -> Any:
        replayed.extend(r["messageAttributes"][REDRIVEN_FROM]["stringValue"] for r in event["Records"])
        return invoke(function, event)

    while source.poll_once(applied, threading.Event(), wait_seconds=1):
        pass
    assert sorted(replayed) == sorted(first_ids)  # the first ids survive a second redrive
    assert store.read(users)[0] == before  # no failed login counted twice, with or without an event_id

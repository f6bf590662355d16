"""The behaviour-event stream on the emulator: POST /events -> topic -> one queue per consumer -> archive
objects pandas reads; a duplicate event id archived and applied once; poison records in the DLQs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pandas
import pytest

from commerce_ai import aws
from commerce_ai.erasure import ErasureLog
from commerce_ai.stream.archive import EventArchive, read_events
from commerce_ai.stream.consumer import EventConsumer, EventLedger
from commerce_ai.stream.schema import BehaviourEvent
from infra.bootstrap import ingest_key_parameter
from infra.runner.context import LambdaContext
from infra.runner.http_gateway import Gateway
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build.behaviour_events import events_frame
from tests.conftest import INGEST_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, gateway_for
from tests.support.callers import CALLER_KEYS
from tests.support.invoke import in_process

QUEUES = (
    "BehaviourEventsQueue",
    "BehaviourEventsDLQ",
    "BehaviourArchiveQueue",
    "BehaviourArchiveDLQ",
    "ExperimentEventsQueue",
    "ExperimentEventsDLQ",
)


def url_of(stack: Stack, queue: str) -> str:
    return str(aws.client("sqs").get_queue_url(QueueName=stack.physical_name(queue))["QueueUrl"])


@pytest.fixture
def queues(stack: Stack) -> Iterator[dict[str, str]]:
    """The stream's queues, emptied before each test (they share the session's emulator)."""
    urls = {name: url_of(stack, name) for name in QUEUES}
    for url in urls.values():
        empty_queue(url)
    yield urls
    for name in ("BehaviourEventsQueue", "BehaviourArchiveQueue"):
        declared = stack.resources[name]["Properties"]["VisibilityTimeout"]
        aws.client("sqs").set_queue_attributes(QueueUrl=urls[name], Attributes={"VisibilityTimeout": str(declared)})


_ids = iter(range(10**9))


def event(event_type: str = "click", day: str = "2026-12-05", **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "event_id": f"it-{next(_ids)}-{time.monotonic_ns()}",
        "user_id": "u-1",
        "session_id": "s-1",
        "event_type": event_type,
        "timestamp": f"{day}T10:00:00Z",
        "item_id": "sku-1",
    }
    if event_type == "impression":
        fields["item_ids"] = ["sku-1", "sku-2"]
    return {**fields, **changes}


def source(stack: Stack, queue: str, function: str, urls: dict[str, str]) -> QueueSource:
    return QueueSource(
        function, urls[queue], stack.arn(queue), batch_size=1000, window_seconds=0.5, report_failures=True
    )


def drain(src: QueueSource, invoke: Any, quiet_polls: int = 2) -> None:
    """Poll until the queue stays empty for `quiet_polls` polls (SNS delivery is asynchronous)."""
    quiet = 0
    while quiet < quiet_polls:
        quiet = quiet + 1 if src.poll_once(invoke, threading.Event(), wait_seconds=1) == 0 else 0


def receive_all(url: str, quiet_polls: int = 2) -> list[dict[str, Any]]:
    sqs, messages, quiet = aws.client("sqs"), [], 0
    while quiet < quiet_polls:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        messages += got
        quiet = quiet + 1 if not got else 0
    return messages


def post(gateway: Gateway, events: list[Any], key: str | None = INGEST_KEY) -> tuple[int, Any]:
    return call(gateway, "POST", "/events", {"events": events}, key)


def test_bootstrap_made_the_topic_its_raw_subscriptions_and_the_archive_lifecycle(stack: Stack) -> None:
    sns = aws.client("sns")
    topic = stack.arn("BehaviourEventsTopic")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    endpoints = {s["Endpoint"] for s in subscriptions}
    assert endpoints == {
        stack.arn("BehaviourArchiveQueue"),
        stack.arn("ExperimentEventsQueue"),
        stack.arn("RecommendationEventsQueue"),
        stack.arn("PropensityProfileEventsQueue"),
    }
    for subscription in subscriptions:
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        assert attributes["RawMessageDelivery"] == "true"
    rules = aws.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.physical_name("BehaviourEventsBucket"))
    expiry = {r["ID"]: r for r in rules["Rules"]}["ExpireBehaviourEvents"]
    assert (expiry["Filter"]["Prefix"], expiry["Expiration"]["Days"]) == ("events/", 365)
    key = aws.client("ssm").get_parameter(Name=ingest_key_parameter(stack), WithDecryption=True)["Parameter"]
    assert (key["Type"], key["Value"]) == ("SecureString", INGEST_KEY)


def test_posted_events_fan_out_to_each_consumer_queue_and_land_in_the_archive(
    stack: Stack, queues: dict[str, str]
) -> None:
    gateway = gateway_for(stack)
    good = [event("view"), event("click"), event("impression"), event("search", item_id=None, query="juice")]
    status, body = post(gateway, [*good, event(price="1.0")])
    assert (status, body["accepted"], [r["index"] for r in body["rejected"]]) == (202, 4, [4])

    # The experiments queue gets only the types its filter names, as the raw event with its type attribute.
    experiment_messages = receive_all(queues["ExperimentEventsQueue"])
    received = {json.loads(m["Body"])["event_id"]: m for m in experiment_messages}
    assert set(received) == {good[1]["event_id"], good[2]["event_id"]}
    click = received[good[1]["event_id"]]
    assert click["MessageAttributes"]["event_type"]["StringValue"] == "click"
    assert BehaviourEvent.model_validate(json.loads(click["Body"])).event_type == "click"

    # The archive consumer writes them all; pandas reads the objects as they are.
    drain(source(stack, "BehaviourArchiveQueue", "BehaviourArchiveFunction", queues), in_process(stack))
    bucket = stack.physical_name("BehaviourEventsBucket")
    frame = events_frame(read_events(bucket, date(2026, 12, 5), date(2026, 12, 5)))
    assert {e["event_id"] for e in good} <= set(frame["event_id"])
    archive = EventArchive(bucket)
    key = next(k for k in archive.keys(date(2026, 12, 5), date(2026, 12, 5)))
    raw = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    assert not pandas.read_json(raw, lines=True, compression="gzip").empty


def test_a_duplicate_event_id_is_archived_once_and_applied_once(stack: Stack, queues: dict[str, str]) -> None:
    gateway = gateway_for(stack)
    twice = event("purchase", day="2026-12-04", price=2.5, quantity=1)
    assert post(gateway, [twice])[0] == 202
    assert post(gateway, [twice, event("purchase", day="2026-12-04")])[0] == 202  # re-posted beside another

    applied: list[str] = []
    ledger = EventLedger(stack.physical_name("StreamLedgerTable"))
    erasures = ErasureLog(stack.physical_name("UserErasuresTable"))
    consumer = EventConsumer(
        f"it-{time.monotonic_ns()}",
        lambda e: applied.append(e.event_id),
        ledger=lambda: ledger,
        erasures=lambda: erasures,
    )

    def invoke_consumer(function: str, lambda_event: dict[str, Any]) -> Any:
        return consumer.handle(lambda_event, LambdaContext("ExperimentEventsFunction"))

    drain(source(stack, "ExperimentEventsQueue", "ExperimentEventsFunction", queues), invoke_consumer)
    assert applied.count(twice["event_id"]) == 1 and len(applied) == 2

    drain(source(stack, "BehaviourArchiveQueue", "BehaviourArchiveFunction", queues), in_process(stack))
    frame = events_frame(
        read_events(stack.physical_name("BehaviourEventsBucket"), date(2026, 12, 4), date(2026, 12, 4))
    )
    assert list(frame["event_id"]).count(twice["event_id"]) == 1
    copies = sum(
        1
        for key in EventArchive(stack.physical_name("BehaviourEventsBucket")).keys(date(2026, 12, 4), date(2026, 12, 4))
        for record in EventArchive(stack.physical_name("BehaviourEventsBucket")).records(key)
        if record["event_id"] == twice["event_id"]
    )
    assert copies >= 1  # stored once or more, read once


def test_queued_events_are_published_and_poison_reaches_the_dlqs(stack: Stack, queues: dict[str, str]) -> None:
    sqs = aws.client("sqs")
    invoke = in_process(stack)
    for name in ("BehaviourEventsQueue", "BehaviourArchiveQueue"):
        sqs.set_queue_attributes(QueueUrl=queues[name], Attributes={"VisibilityTimeout": "1"})
    queued = event("add_to_cart", day="2026-12-03", price=2.0, quantity=1)
    sqs.send_message(QueueUrl=queues["BehaviourEventsQueue"], MessageBody=json.dumps(queued))
    sqs.send_message(QueueUrl=queues["BehaviourEventsQueue"], MessageBody=json.dumps({**queued, "price": "2.0"}))
    sqs.send_message(QueueUrl=queues["BehaviourArchiveQueue"], MessageBody="{not an event")

    max_receives = stack.resources["BehaviourEventsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    ingest = source(stack, "BehaviourEventsQueue", "BehaviourEventsQueueFunction", queues)
    archive = source(stack, "BehaviourArchiveQueue", "BehaviourArchiveFunction", queues)
    deadline = time.monotonic() + 60
    dead: dict[str, list[dict[str, Any]]] = {"BehaviourEventsDLQ": [], "BehaviourArchiveDLQ": []}
    while time.monotonic() < deadline and not all(dead.values()):
        for src in (ingest, archive):
            src.poll_once(invoke, threading.Event(), wait_seconds=1)
        for name in dead:
            dead[name] += sqs.receive_message(QueueUrl=queues[name], MaxNumberOfMessages=10).get("Messages", [])
        time.sleep(0.5)
    assert [json.loads(m["Body"])["price"] for m in dead["BehaviourEventsDLQ"]] == ["2.0"]
    assert [m["Body"] for m in dead["BehaviourArchiveDLQ"]] == ["{not an event"]
    assert max_receives == 3

    frame = events_frame(
        read_events(stack.physical_name("BehaviourEventsBucket"), date(2026, 12, 3), date(2026, 12, 3))
    )
    assert queued["event_id"] in set(frame["event_id"])
    # The day's archive may hold other tests' events too: this one's row, by its id.
    stamp = frame.loc[frame["event_id"] == queued["event_id"], "timestamp"].iloc[0]
    assert stamp == pandas.Timestamp(datetime(2026, 12, 3, 10, tzinfo=UTC))


def test_the_api_refuses_anonymous_producers(stack: Stack, queues: dict[str, str]) -> None:
    gateway = gateway_for(stack)
    assert post(gateway, [event()], key=None)[0] == 401
    assert post(gateway, [event()], key="not-the-key")[0] == 401  # an unknown key
    assert post(gateway, [event()], key=CALLER_KEYS["labels"])[0] == 403  # the labels key cannot post events
    assert call(gateway, "POST", "/events", {"events": []}, INGEST_KEY)[0] == 400

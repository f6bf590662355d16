"""Behaviour-event stream benchmark: events per second end to end, as a ratio to bare SendMessageBatch.

End to end: `POST /events` through the real Chalice handler with API Gateway proxy events (100 events a
request, the ingest key checked), which validates and publishes them to `BehaviourEventsTopic`
(PublishBatch, 10 a call); the emulator fans them out to the subscription queues; the runner's SQS
source drains `BehaviourArchiveQueue` through `BehaviourArchiveFunction` into the archive bucket, in a
few threads while the posting goes on (as Lambda's pollers would consume while producers post). The clock
stops when every event is archived and every other subscriber queue has delivered every event its filter
takes.

Baseline, same run, same emulator: the same events sent with bare boto3 `SendMessageBatch`, 10 a call,
to a scratch queue, the cheapest way to put them anywhere on the emulator; half of them before the
end-to-end run and half after it.

Queues are kept short on both sides, because moto's ReceiveMessage walks every message a queue holds (and
its SendMessage did too, until infra/moto_server.py): the baseline starts a fresh scratch queue every
`SCRATCH_QUEUE_EVENTS` events, and the end-to-end run drains every other subscriber's queue (experiments,
propensity, recommendations, whatever subscribes) as it goes, as their consumers would (only the count is
kept), and holds its next request while any subscriber is `MAX_BACKLOG_EVENTS` behind (back-pressure, so the
figure is the sustained rate of the slowest subscriber, not of a producer filling queues). The clock stops
when each subscriber has had every event its filter takes.
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from commerce_ai import aws
from commerce_ai.stream.archive import EventArchive
from infra.runner.sqs_poller import QueueSource
from tests.benchmarks._cost import CallLog, bill, counting_calls
from tests.benchmarks._report import Report, fmt_seconds, heading, percentile, ratio
from tests.benchmarks._stack import INGEST_KEY, LocalStack, patched_environ
from tests.benchmarks.risk import _environment, _load, _quiet_stdout
from tests.support.invoke import in_process

API_FUNCTION = "BehaviourEventsApiFunction"
ARCHIVE_FUNCTION = "BehaviourArchiveFunction"
PER_REQUEST = 100
DAY = date(2026, 12, 5)
SCRATCH_QUEUE_EVENTS = 1000
# Lambda polls an SQS event source with several pollers at once (five to start with); one local poller
# receiving ten messages a call could not keep up with the topic.
ARCHIVE_POLLERS = 4
RUN_VISIBILITY_SECONDS = 30
# Events posted but not yet taken by a subscriber, beyond which the producer waits (back-pressure). A
# producer that outran the consumers would only grow the queues, and moto's ReceiveMessage walks every
# message a queue holds: past tens of thousands its answers outlast the client's read timeout.
MAX_BACKLOG_EVENTS = 5_000


def make_events(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """A plausible mix: mostly views and impressions, some searches, clicks, carts and purchases."""
    rng = random.Random(seed)
    kinds = ["view"] * 40 + ["impression"] * 25 + ["search"] * 10 + ["click"] * 15 + ["add_to_cart"] * 6
    kinds += ["purchase"] * 3 + ["rating"]
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    events = []
    for n in range(count):
        kind = rng.choice(kinds)
        event: dict[str, Any] = {
            "event_id": f"bench-{n:07d}",
            "user_id": f"u-{rng.randrange(5000)}",
            "session_id": f"s-{rng.randrange(20000)}",
            "event_type": kind,
            "timestamp": (start + timedelta(seconds=n * 86_000 / max(count, 1))).isoformat().replace("+00:00", "Z"),
        }
        if kind == "search":
            event["query"] = rng.choice(["orange juice", "tropicana", "pulp free", "family size"])
        else:
            event["item_id"] = f"oj-{rng.randrange(1, 84)}-{rng.randrange(1, 12)}"
        if kind == "impression":
            event["item_ids"] = [f"oj-{rng.randrange(1, 84)}-{b}" for b in range(1, 6)]
        if kind in ("add_to_cart", "purchase"):
            event["price"] = round(rng.uniform(1.5, 3.5), 2)
            event["quantity"] = rng.randrange(1, 4)
        if kind == "rating":
            event["value"] = float(rng.randrange(1, 6))
        events.append(event)
    return events


def bare_send(events: list[dict[str, Any]]) -> float:
    """Seconds to send every event with SendMessageBatch (creating the scratch queues included)."""
    sqs = aws.client("sqs")
    bodies = [json.dumps(e, separators=(",", ":")) for e in events]
    urls = []
    try:
        started = time.perf_counter()
        for chunk in range(0, len(bodies), SCRATCH_QUEUE_EVENTS):
            urls.append(sqs.create_queue(QueueName=f"bench-stream-baseline-{time.monotonic_ns()}")["QueueUrl"])
            for start in range(chunk, min(chunk + SCRATCH_QUEUE_EVENTS, len(bodies)), 10):
                sqs.send_message_batch(
                    QueueUrl=urls[-1],
                    Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
                )
        return time.perf_counter() - started
    finally:
        for url in urls:
            sqs.delete_queue(QueueUrl=url)


def drain_count(url: str, stop: threading.Event, counted: dict[str, int]) -> None:
    """Receive and delete what reaches `url` until stopped, counting it (a consumer that does nothing). A
    call that fails (a read timeout on a loaded machine) is counted and retried, as Lambda's poller would."""
    sqs = aws.client("sqs")
    while not stop.is_set():
        try:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if messages:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
                sqs.delete_message_batch(QueueUrl=url, Entries=entries)
                counted["messages"] += len(messages)
        except (BotoCoreError, ClientError):
            counted["failed_calls"] = counted.get("failed_calls", 0) + 1


def subscriber_deliveries(topic_arn: str, events: list[dict[str, Any]]) -> dict[str, int]:
    """Subscribed queue ARN -> the messages SNS hands it for `events`: one per event its filter (an
    `event_type` list, the only kind the template uses) takes."""
    sns, expected = aws.client("sns"), {}
    for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        policy = json.loads(attributes.get("FilterPolicy") or "{}")
        kinds = policy.get("event_type")
        expected[subscription["Endpoint"]] = sum(1 for e in events if kinds is None or e["event_type"] in kinds)
    return expected


def end_to_end(local: LocalStack, events: list[dict[str, Any]]) -> dict[str, Any]:
    stack = local.stack
    sqs = aws.client("sqs")
    archive_arn = stack.arn("BehaviourArchiveQueue")
    archive_url = sqs.get_queue_url(QueueName=stack.physical_name("BehaviourArchiveQueue"))["QueueUrl"]
    expected = subscriber_deliveries(stack.arn("BehaviourEventsTopic"), events)
    # Every other subscriber (experiments, propensity, recommendations, ...) is drained as it goes, counted
    # only: its consumer's own work is its capability's benchmark. Undrained, each of those queues would grow
    # to the whole run and make every delivery slower on moto (module docstring).
    others = {
        arn: sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"] for arn in expected if arn != archive_arn
    }
    sources = [
        QueueSource(
            ARCHIVE_FUNCTION,
            archive_url,
            archive_arn,
            batch_size=1000,
            window_seconds=2,
            report_failures=True,
        )
        for _ in range(ARCHIVE_POLLERS)
    ]
    # A receive whose answer is lost (the client's read timeout on a loaded machine) hides its messages for
    # the queue's visibility timeout, 360 s, before they come back; the run would measure that wait, not
    # the stream. For the run the archive queue's timeout is 30 s, and redeliveries are reported.
    sqs.set_queue_attributes(QueueUrl=archive_url, Attributes={"VisibilityTimeout": str(RUN_VISIBILITY_SECONDS)})
    stop = threading.Event()
    lock = threading.Lock()
    archived = {"events": 0}
    fanned_out = {arn: {"messages": 0} for arn in others}
    invoke = in_process(stack)

    failed_receives = {"calls": 0}

    def consume(source: QueueSource) -> None:
        while not stop.is_set():
            try:
                batch = source.receive_batch(stop, wait_seconds=1)
            except (BotoCoreError, ClientError):  # retried, as Lambda's poller would; unreceived, nothing is lost
                with lock:
                    failed_receives["calls"] += 1
                continue
            if batch:
                done = len(batch) - len(source.process(batch, invoke))
                with lock:
                    archived["events"] += done

    def wait_for_consumers(posted: int) -> None:
        """Back-pressure: hold the next request while any subscriber is MAX_BACKLOG_EVENTS behind."""
        share = posted / len(events)
        while not stop.is_set() and (
            posted - archived["events"] > MAX_BACKLOG_EVENTS
            or any(expected[a] * share - fanned_out[a]["messages"] > MAX_BACKLOG_EVENTS for a in others)
        ):
            time.sleep(0.05)

    latencies: list[float] = []
    # One environment for the API function and the archive consumers (they differ only in their service
    # name), set once: the threads share the process's environment.
    environment = {**_environment(local, ARCHIVE_FUNCTION), **_environment(local, API_FUNCTION)}
    with _quiet_stdout(), patched_environ(environment):
        app, context = _load(local, API_FUNCTION)
        _load(local, ARCHIVE_FUNCTION)  # imported once here: the pollers must not import it side by side
        threads = [threading.Thread(target=consume, args=(s,), daemon=True) for s in sources]
        threads += [
            threading.Thread(target=drain_count, args=(url, stop, fanned_out[arn]), daemon=True)
            for arn, url in others.items()
        ]
        with counting_calls() as calls:
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for start in range(0, len(events), PER_REQUEST):
                wait_for_consumers(start)
                body = json.dumps({"events": events[start : start + PER_REQUEST]}).encode()
                api_event = local.api_event("POST", "/events", body, {"x-api-key": INGEST_KEY})
                call_started = time.perf_counter()
                response = app(api_event, context)
                latencies.append(time.perf_counter() - call_started)
                answer = json.loads(response["body"])
                if response["statusCode"] != 202 or answer["accepted"] != len(events[start : start + PER_REQUEST]):
                    raise RuntimeError(f"POST /events answered {response['statusCode']}: {response['body'][:300]}")
            posting = time.perf_counter() - started
            deadline = time.monotonic() + 3600
            while archived["events"] < len(events) and time.monotonic() < deadline:
                time.sleep(0.2)
            archived_at = time.perf_counter() - started
            while time.monotonic() < deadline and any(fanned_out[a]["messages"] < expected[a] for a in others):
                time.sleep(0.2)
            total = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
    declared = stack.resources["BehaviourArchiveQueue"]["Properties"]["VisibilityTimeout"]
    sqs.set_queue_attributes(QueueUrl=archive_url, Attributes={"VisibilityTimeout": str(declared)})
    objects = list(EventArchive(stack.physical_name("BehaviourEventsBucket")).keys(DAY, DAY + timedelta(days=1)))
    return {
        "total": total,
        "posting": posting,
        "archived_at": archived_at,
        "archived": archived["events"],
        "fanned_out": sum(f["messages"] for f in fanned_out.values()),
        "fanned_out_expected": sum(expected[a] for a in others),
        "subscribers": len(expected),
        "objects": len(objects),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "batches": sum(s.stats["batches"] for s in sources),
        "calls": calls,
        "deliveries": sum(expected.values()),
        "failed_calls": failed_receives["calls"] + sum(f.get("failed_calls", 0) for f in fanned_out.values()),
    }


def cost_lines(events: int, measured: dict[str, Any]) -> tuple[str, dict[str, float]]:
    """What AWS would bill for the run's calls (tests/benchmarks/_cost.py), per million events."""
    calls: CallLog = measured["calls"]
    billed = bill(
        calls,
        api_requests=events // PER_REQUEST,
        lambda_invocations=events // PER_REQUEST + measured["batches"],
        sns_deliveries_to_sqs=measured["deliveries"],
    )
    per_million = 1e6 / events
    by_call = ", ".join(f"{service} {op} {n:,}" for (service, op), n in sorted(calls.calls.items()))
    text = (
        f"\n  AWS cost model of these calls (us-east-1 list prices; duration not modelled): "
        f"per million events ${billed['dollars'] * per_million:,.2f}: "
        f"SNS {billed['sns_request'] * per_million:,.0f} requests, "
        f"SQS {billed['sqs_request'] * per_million:,.0f} requests (SNS deliveries included), "
        f"S3 {billed['s3_put'] * per_million:,.0f} PUT-class, "
        f"DynamoDB {billed['dynamodb_wru'] * per_million:,.0f} WRU / {billed['dynamodb_rru'] * per_million:,.0f} RRU, "
        f"API Gateway {billed['api_request'] * per_million:,.0f}, "
        f"Lambda {billed['lambda_invocation'] * per_million:,.0f} invocations"
        f"\n  calls made: {by_call}; SNS deliveries to SQS {measured['deliveries']:,} "
        f"(the local pollers' empty receives count; Lambda's long-poll 20 s and make fewer)"
    )
    return text, billed


def run(local: LocalStack, report: Report, events: int = 100_000) -> None:
    heading(f"STREAM: {events:,} BEHAVIOUR EVENTS END TO END (POST /events -> topic -> queues -> archive)")
    try:
        with patched_environ(local.env):
            generated = make_events(events)
            # Half the baseline before the end-to-end run and half after, so a change in the shared
            # machine's load during the run weighs on both sides.
            half = len(generated) // 2
            baseline = bare_send(generated[:half])
            measured = end_to_end(local, generated)
            baseline += bare_send(generated[half:])
    except Exception as exc:
        report.error("stream", exc)
        return
    rate, bare_rate = events / measured["total"], events / baseline
    print(
        f"\n  end to end: {events:,} events in {measured['total']:.1f} s = {rate:,.0f}/s "
        f"(posted in {measured['posting']:.1f} s, {events // PER_REQUEST:,} requests of {PER_REQUEST}: "
        f"p50 {fmt_seconds(measured['p50'])}, p99 {fmt_seconds(measured['p99'])} each; last event archived at "
        f"{measured['archived_at']:.1f} s in {measured['objects']:,} objects from {measured['batches']:,} batches; "
        f"the other {measured['subscribers'] - 1} subscriber queues {measured['fanned_out']:,}/"
        f"{measured['fanned_out_expected']:,} messages; {measured['failed_calls']:,} consumer calls failed "
        f"and were retried)"
        f"\n  bare SendMessageBatch of the same events (half before, half after): "
        f"{baseline:.1f} s = {bare_rate:,.0f}/s" + cost_lines(events, measured)[0],
        flush=True,
    )
    report.add(
        "stream",
        "events/s end to end (accepted, fanned out, archived) vs bare SendMessageBatch",
        f"{rate:,.0f}/s",
        f"{bare_rate:,.0f}/s",
        ratio(rate, bare_rate),
        f"{measured['archived']:,} archived (redeliveries included) of {events:,}; "
        f"POST p50 {fmt_seconds(measured['p50'])} per 100 events; "
        f"AWS would bill about ${cost_lines(events, measured)[1]['dollars'] * 1e6 / events:,.2f} per million events",
    )

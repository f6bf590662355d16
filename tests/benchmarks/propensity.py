"""Propensity benchmarks: `GET /users/{id}/propensity` on the handler path against its bare floor, and the
profile update from `POST /events` to the new value in `GET /users/{id}/profile` against the emulator's own
floor for the same hops, with what AWS would bill per event.

Sides are interleaved call by call, so the shared machine's noise hits them alike:
- score: the Chalice app with an API Gateway proxy event (ingest key) for users with a live profile,
  against the bare DynamoDB read of the same profile item plus `session.run` of the same feature row
  (computed beforehand), as the issue asks;
- profile update: one event posted through `POST /events`'s handler (PublishBatch to the topic), the
  emulator's fan-out to PropensityProfileEventsQueue, the consumer run in this process as the runner's
  poller runs it, until the profile route shows the event; against the same hops with bare boto3 (Publish
  to the topic, receive and delete from the queue, the erasure log's and the catalogue's BatchGetItem, the
  ledger's GetItem and PutItem, the profile's GetItem and PutItem, the profile's and its high_intent
  membership's GetItem the route makes).
  The target is 1 s. On Lambda the poller is AWS's, which long-polls and starts within milliseconds of a
  message; locally `commerce-ai up`'s poller adds its receive wait (the e2e test measures that path).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from commerce_ai import aws
from commerce_ai.propensity import catalogue, service
from commerce_ai.propensity.features import feature_vector, profile_from_events
from commerce_ai.propensity.model import HORIZONS
from commerce_ai.stream.schema import BehaviourEvent
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.sqs_poller import QueueSource
from model_build.propensity.clickstream import ClickstreamConfig, simulate
from tests.benchmarks._cost import bill, counting_calls
from tests.benchmarks._report import Report, heading, percentile, ratio
from tests.benchmarks._stack import ADMIN_KEY, INGEST_KEY, LocalStack, patched_environ
from tests.support.invoke import in_process

API_FUNCTION = "PropensityApiFunction"
CONSUMER_FUNCTION = "PropensityProfileEventsFunction"
USERS = 100
EVENT_DEADLINE_SECONDS = 60  # an event not in the profile by then failed in the consumer (and waits out its visibility)


def _stamp(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def prepare(local: LocalStack) -> dict[str, float]:
    """Both horizons' default build (CDNOW) published and active; USERS simulated histories folded into
    profiles with the serving code."""
    from model_build.propensity import build

    timings: dict[str, float] = {}
    started = time.perf_counter()
    built = build(local.workdir / "propensity")
    timings["build (CDNOW)"] = time.perf_counter() - started
    for model in built:
        local.serve(model)
    for cached in (service.store, service.model_loader, catalogue._catalog):
        cached.cache_clear()
    started = time.perf_counter()
    config = ClickstreamConfig(users=USERS, days=30, sessions_per_day=1.0, user_prefix="bench-", seed=3)
    now = time.time()
    by_user: dict[str, list[BehaviourEvent]] = {}
    for event in simulate(config.model_copy(update={"start": datetime.now(UTC) - timedelta(days=30)})):
        by_user.setdefault(event.user_id, []).append(event)
    for user, events in by_user.items():  # folded in memory (the same `Profile.apply`), one write per user
        service.store().save(profile_from_events(user, events), None, now)
    timings["profiles"] = time.perf_counter() - started
    return timings


def score_latency(local: LocalStack, report: Report, calls: int) -> None:
    fn = local.function(API_FUNCTION)
    app = load_handler(fn.code_uri, fn.module, fn.attribute)
    context = LambdaContext(fn.physical_name)
    horizon = "28d"
    assert horizon in HORIZONS
    model = service.model_loader(horizon).get().model
    table = local.stack.physical_name("UserProfilesTable")
    ddb = aws.client("dynamodb")
    users = [f"bench-{u}" for u in range(USERS) if service.store().get(f"bench-{u}") is not None]
    now = datetime.now(UTC)
    rows = {}
    for user in users:
        stored = service.store().get(user)
        assert stored is not None
        rows[user] = [feature_vector(stored.profile, now)]
    handler_times, bare_times = [], []
    for n in range(calls):
        user = users[n % len(users)]
        event = local.api_event("GET", f"/users/{user}/propensity", headers={"x-api-key": INGEST_KEY})
        event["queryStringParameters"] = {"horizon": horizon}
        started = time.perf_counter()
        answer = app(event, context)
        handler_times.append(time.perf_counter() - started)
        assert answer["statusCode"] == 200, answer
        started = time.perf_counter()
        ddb.get_item(TableName=table, Key={"user_id": {"S": user}, "kind": {"S": "profile"}})
        model.raw(rows[user])
        bare_times.append(time.perf_counter() - started)
    for pct in (50, 99):
        value, floor = percentile(handler_times, pct), percentile(bare_times, pct)
        print(f"  GET /users/{{id}}/propensity p{pct}: handler {value * 1000:.1f} ms, bare {floor * 1000:.1f} ms")
        report.add(
            "propensity",
            f"GET /users/{{user_id}}/propensity p{pct} (handler vs bare profile GetItem + ORT of the same row)",
            f"{value * 1000:.1f} ms",
            f"{floor * 1000:.1f} ms",
            ratio(value, floor),
            f"{calls} calls over {len(users)} users with profiles, horizon {horizon}",
        )


def _event(user: str) -> dict[str, Any]:
    return {
        "event_id": f"bench-{uuid.uuid4().hex}",
        "user_id": user,
        "session_id": "s-bench",
        "event_type": "view",
        "timestamp": _stamp(datetime.now(UTC)),
        "item_id": "bench-item",
        "properties": {"category": "bench"},
    }


def _bare_hops(local: LocalStack, url: str, user: str) -> float:
    """The same hops as an event's way to the profile, with bare boto3 (no Python of ours around them)."""
    sns, sqs, ddb = aws.client("sns"), aws.client("sqs"), aws.client("dynamodb")
    stack = local.stack
    body = json.dumps(_event(user))
    started = time.perf_counter()
    sns.publish(TopicArn=stack.arn("BehaviourEventsTopic"), Message=body)
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            break
    erasures, catalog = stack.physical_name("UserErasuresTable"), stack.physical_name("CatalogTable")
    ddb.batch_get_item(RequestItems={erasures: {"Keys": [{"user_hash": {"S": "0" * 64}}]}})
    ddb.batch_get_item(RequestItems={catalog: {"Keys": [{"item_id": {"S": "bench-item"}}]}})
    ledger, profiles = stack.physical_name("StreamLedgerTable"), stack.physical_name("UserProfilesTable")
    key = {"consumer": {"S": "bench-floor"}, "event_id": {"S": uuid.uuid4().hex}}
    ddb.get_item(TableName=ledger, Key=key, ConsistentRead=True)
    profile_key = {"user_id": {"S": user}, "kind": {"S": "bench-floor"}}
    ddb.get_item(TableName=profiles, Key=profile_key, ConsistentRead=True)
    ddb.put_item(TableName=profiles, Item={**profile_key, "state": {"B": b"x" * 2000}})
    ddb.put_item(TableName=ledger, Item=key)
    sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
    )
    ddb.get_item(TableName=profiles, Key=profile_key)
    ddb.get_item(TableName=profiles, Key={**profile_key, "kind": {"S": "segment#high_intent"}})  # the view's segment
    elapsed = time.perf_counter() - started
    ddb.delete_item(TableName=profiles, Key=profile_key)
    return elapsed


def profile_update(local: LocalStack, report: Report, events: int) -> None:
    api = local.function("BehaviourEventsApiFunction")
    post_app = load_handler(api.code_uri, api.module, api.attribute)
    fn = local.function(API_FUNCTION)
    get_app = load_handler(fn.code_uri, fn.module, fn.attribute)
    get_context = LambdaContext(fn.physical_name)
    queue = local.stack.physical_name("PropensityProfileEventsQueue")
    url = aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
    source = QueueSource(
        CONSUMER_FUNCTION, url, local.stack.arn("PropensityProfileEventsQueue"), 10, report_failures=True
    )
    invoke = in_process(local.stack)
    latencies, floors = [], []
    measured_calls: dict[tuple[str, str], int] = {}
    with counting_calls() as calls:
        for n in range(events):
            user = f"bench-new-{uuid.uuid4().hex[:8]}"
            body = json.dumps({"events": [_event(user)]}).encode()
            started = time.perf_counter()
            posted = post_app(
                local.api_event("POST", "/events", body, {"x-api-key": INGEST_KEY}), LambdaContext(api.physical_name)
            )
            assert posted["statusCode"] == 202, posted
            while True:
                if time.perf_counter() - started > EVENT_DEADLINE_SECONDS:
                    raise RuntimeError(f"event {n + 1} was not in the profile after {EVENT_DEADLINE_SECONDS} s")
                batch = source.receive_batch(threading.Event(), wait_seconds=1)
                if batch:
                    failed = source.process(batch, invoke)
                    if failed:
                        raise RuntimeError(f"the profiles consumer failed {len(failed)} record(s) of event {n + 1}")
                answer = get_app(
                    local.api_event("GET", f"/users/{user}/profile", headers={"x-api-key": ADMIN_KEY}), get_context
                )
                if answer["statusCode"] == 200:  # a new user: the profile exists once the event is folded in
                    break
            latencies.append(time.perf_counter() - started)
            if n == 0:
                measured_calls = dict(calls.calls)
    for _ in range(events):
        floors.append(_bare_hops(local, url, f"bench-floor-{uuid.uuid4().hex[:8]}"))
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    f50, f99 = percentile(floors, 50), percentile(floors, 99)
    billed = bill(calls, api_requests=2 * events, lambda_invocations=3 * events, sns_deliveries_to_sqs=events)
    per_million = 1e6 / events
    print(
        f"  profile update, POST /events to GET /users/{{id}}/profile: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms over {events} events; the same hops with bare boto3 p50 {f50 * 1000:.0f} ms, "
        f"p99 {f99 * 1000:.0f} ms\n  AWS cost model per million events (POST, fan-out, consumer, one profile GET "
        f"each): ${billed['dollars'] * per_million:,.2f}: DynamoDB {billed['dynamodb_wru'] * per_million:,.0f} WRU / "
        f"{billed['dynamodb_rru'] * per_million:,.0f} RRU, SQS {billed['sqs_request'] * per_million:,.0f} requests "
        f"(the local poller's empty receives count), SNS {billed['sns_request'] * per_million:,.0f}\n  calls for the "
        f"first event: {', '.join(f'{s} {op} {k}' for (s, op), k in sorted(measured_calls.items()))}",
        flush=True,
    )
    report.add(
        "propensity",
        "profile update: POST /events until GET /users/{id}/profile shows it, p50 (target 1 s)",
        f"{p50 * 1000:.0f} ms",
        f"{f50 * 1000:.0f} ms",
        ratio(p50, f50),
        f"p99 {p99 * 1000:.0f} ms (floor {f99 * 1000:.0f} ms) over {events} events; baseline: the same hops with "
        f"bare boto3; consumer polled in process; AWS about ${billed['dollars'] * per_million:,.2f} per million events",
    )


def run(local: LocalStack, report: Report, calls: int = 500, events: int = 50) -> None:
    heading("PROPENSITY: SCORE LATENCY AND PROFILE UPDATE (in process, against the emulator)")
    try:
        with patched_environ(local.env):
            setup = prepare(local)
            score_latency(local, report, calls)
            profile_update(local, report, events)
    except Exception as exc:
        report.error("propensity", exc)
        return
    print("\n  setup (not measured): " + ", ".join(f"{w} {s:.1f} s" for w, s in setup.items()), flush=True)

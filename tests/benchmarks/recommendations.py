"""Recommendations benchmarks: `GET /recommendations/{user_id}` on the handler path (session read,
catalogue read, candidates, ONNX ranker, MMR) against its bare floor, and event-to-effect latency.

Sides are interleaved call by call, so the shared machine's noise hits them alike:
- handler: the Chalice app with an API Gateway proxy event, as the local gateway and Lambda call it, for
  MovieLens users with a live session (three recent items each);
- bare floor: the same user's session GetItem (consistent) with bare boto3 plus `session.run` of the same
  100 candidates' ranker inputs (precomputed), no Python around them.

Event to effect: a `view` posted through `POST /events`'s handler (the ingest key, PublishBatch to the topic),
the emulator's fan-out to RecommendationEventsQueue, the consumer run in this process as the runner's poller
runs it (receive, invoke), until a GET through the handler shows the session item; each call is timed too, so
the report says where the time goes. The poller's delete comes after the handler returns, while a GET already
sees the session, so it is timed apart, off the clock. On Lambda the poller is AWS's; locally it is `commerce-ai
up`'s (the e2e test measures that path, the GET polled every 20 ms).
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from commerce_ai import aws
from commerce_ai.recommendations import engine, service
from commerce_ai.recommendations import store as session_store
from commerce_ai.recommendations.session import SessionState, apply_event
from commerce_ai.stream.schema import BehaviourEvent
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.sqs_poller import QueueSource
from tests.benchmarks._report import Report, heading, percentile, ratio
from tests.benchmarks._stack import INGEST_KEY, LocalStack, patched_environ
from tests.support.invoke import in_process

API_FUNCTION = "RecommendationsApiFunction"
USERS = 200


def _event(user: str, item: str, kind: str = "view") -> dict[str, Any]:
    return {
        "event_id": f"bench-{uuid.uuid4().hex}",
        "user_id": user,
        "session_id": "s-bench",
        "event_type": kind,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "item_id": item,
    }


def _apply(event: BehaviourEvent, state: SessionState) -> SessionState:
    return apply_event(state, event)


def prepare(local: LocalStack) -> dict[str, float]:
    from model_build.recommendations import build

    timings: dict[str, float] = {}
    started = time.perf_counter()
    (built,) = build(local.workdir / "recommendations")
    timings["build (MovieLens)"] = time.perf_counter() - started
    local.serve(built)
    started = time.perf_counter()
    sessions = session_store.SessionStore(local.stack.physical_name("RecommendationSessionsTable"))
    for u in range(1, USERS + 1):
        for item in (str(50 + u % 7), str(100 + u % 11), str(1 + u % 13)):
            event = BehaviourEvent.model_validate_json(json.dumps(_event(str(u), item)))
            sessions.update(str(u), functools.partial(_apply, event))
    timings["sessions"] = time.perf_counter() - started
    for cached in (service.model_loader, service.catalogue, session_store.sessions):
        cached.cache_clear()
    return timings


def latency_benchmark(local: LocalStack, report: Report, calls: int) -> None:
    fn = local.function(API_FUNCTION)
    app = load_handler(fn.code_uri, fn.module, fn.attribute)
    context = LambdaContext(fn.physical_name)
    headers = {"x-api-key": INGEST_KEY}
    loaded = service.model_loader().get()
    model = loaded.model
    table = local.stack.physical_name("RecommendationSessionsTable")
    ddb = aws.client("dynamodb")
    now = time.time()
    bare_inputs = {}
    for u in range(1, USERS + 1):
        state = session_store.sessions().get(str(u))
        history, _ = engine.user_history(model.state, str(u), state, now)
        excluded = engine.excluded_mask(model.state, str(u), history, state)
        scores = engine.candidate_scores(model.state, history)
        pool = engine.generate_candidates(model.state, scores, excluded, engine.CANDIDATES)
        bare_inputs[u] = engine.ranker_inputs(model.state, model.state.user_index(str(u)), history, scores, pool)
    handler_times, bare_times = [], []
    for n in range(calls):
        u = 1 + n % USERS
        event = local.api_event("GET", f"/recommendations/{u}", headers=headers)
        started = time.perf_counter()
        answer = app(event, context)
        handler_times.append(time.perf_counter() - started)
        assert answer["statusCode"] == 200, answer
        started = time.perf_counter()
        ddb.get_item(TableName=table, Key={"user_id": {"S": str(u)}}, ConsistentRead=True)
        model.session.run(["score"], bare_inputs[u])
        bare_times.append(time.perf_counter() - started)
    for pct in (50, 99):
        value, floor = percentile(handler_times, pct), percentile(bare_times, pct)
        print(f"  GET /recommendations p{pct}: handler {value * 1000:.1f} ms, bare GetItem + ORT {floor * 1000:.1f} ms")
        report.add(
            "recommendations",
            f"GET /recommendations/{{user_id}} p{pct} (handler vs bare session GetItem + ORT of its 100 candidates)",
            f"{value * 1000:.1f} ms",
            f"{floor * 1000:.1f} ms",
            ratio(value, floor),
            f"{calls} calls, users with a 3-item session; catalogue BatchGetItem included on the handler side",
        )


def event_to_effect(local: LocalStack, report: Report, events: int) -> None:
    api = local.function("BehaviourEventsApiFunction")
    post_app = load_handler(api.code_uri, api.module, api.attribute)
    fn = local.function(API_FUNCTION)
    get_app = load_handler(fn.code_uri, fn.module, fn.attribute)
    get_context = LambdaContext(fn.physical_name)
    url = aws.client("sqs").get_queue_url(QueueName=local.stack.physical_name("RecommendationEventsQueue"))["QueueUrl"]
    source = QueueSource(
        "RecommendationEventsFunction", url, local.stack.arn("RecommendationEventsQueue"), 10, report_failures=True
    )
    invoke = in_process(local.stack)
    headers = {"x-api-key": INGEST_KEY}
    latencies = []
    stages: dict[str, list[float]] = {"POST /events": [], "receive": [], "consumer": [], "GET": [], "delete": []}

    def timed(stage: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = call(*args, **kwargs)
        stages[stage].append(time.perf_counter() - started)
        return result

    for _ in range(events):
        user = f"bench-new-{uuid.uuid4().hex[:8]}"
        body = json.dumps({"events": [_event(user, "50")]}).encode()
        started = time.perf_counter()
        request = local.api_event("POST", "/events", body, headers)
        posted = timed("POST /events", post_app, request, LambdaContext(api.physical_name))
        assert posted["statusCode"] == 202, posted
        done: list[dict[str, Any]] = []
        while True:
            batch = timed("receive", source.receive_batch, threading.Event(), wait_seconds=1)
            if batch:
                # As the runner's poller does, less the delete: it runs after the handler returns, while the
                # shop's next GET already sees the session (it is timed apart, off the clock).
                event = source.transform(batch, source.queue_arn, source.region)
                timed("consumer", invoke, source.function, event)
                done.extend(batch)
            answer = timed(
                "GET", get_app, local.api_event("GET", f"/recommendations/{user}", headers=headers), get_context
            )
            if json.loads(answer["body"])["session_items"] == 1:
                break
        latencies.append(time.perf_counter() - started)
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
        timed("delete", aws.client("sqs").delete_message_batch, QueueUrl=url, Entries=entries)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(f"  event to effect: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms over {events} events")
    where = ", ".join(f"{stage} {percentile(times, 50) * 1000:.0f} ms" for stage, times in stages.items())
    print(f"  where the time goes (p50 of each call): {where}; load average {os.getloadavg()[0]:.1f}")
    report.add(
        "recommendations",
        "event to effect: POST /events until the next GET shows it (p50; p99 in note), target 1 s",
        f"{p50 * 1000:.0f} ms",
        "1000 ms",
        ratio(p50, 1.0),
        f"p99 {p99 * 1000:.0f} ms over {events} events; consumer polled in process; {where}",
    )


def run(local: LocalStack, report: Report, calls: int = 500, events: int = 50) -> None:
    heading("RECOMMENDATIONS: GET LATENCY AND EVENT TO EFFECT (in process, against the emulator)")
    try:
        with patched_environ(local.env):
            setup = prepare(local)
            latency_benchmark(local, report, calls)
            event_to_effect(local, report, events)
    except Exception as exc:
        report.error("recommendations", exc)
        return
    print("\n  setup (not measured): " + ", ".join(f"{w} {s:.1f} s" for w, s in setup.items()), flush=True)

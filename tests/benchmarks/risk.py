"""Risk benchmarks: `POST /risk/score` latency on the handler path (velocity reads and writes against the
emulator included), the pure compute path against a bare onnxruntime call, and bulk queue throughput.

Sides are interleaved call by call, so the shared machine's noise hits them alike:
- handler: the Chalice app with an API Gateway proxy event, as the local gateway and Lambda call it;
- I/O floor: the same DynamoDB calls made with bare boto3 (one BatchGetItem of the four entities and the
  result, then the conditional PutItem and four UpdateItems in one parallel round, then the UpdateItem that
  marks the result applied), no Python around them;
- compute: features from in-memory state, rules and the model with its occlusion reasons (one batched
  ORT call of 1 + n_features rows);
- bare ORT: `session.run` of one row of features, and of the 1 + n_features rows the reasons score.

Training and publishing the artifacts and warming the velocity state are setup, timed for orientation only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np

from commerce_ai import aws
from commerce_ai.risk import service
from commerce_ai.risk.decisions import post_model_rules, pre_model_rules
from commerce_ai.risk.features import FEATURE_NAMES, payment_features, rule_inputs
from commerce_ai.risk.store import update_request
from commerce_ai.risk.velocity import entity_key, payment_updates
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.sqs_poller import QueueSource
from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, percentile, ratio, table
from tests.benchmarks._stack import WARM_HEARTBEAT_SECONDS, LocalStack, patched_environ
from tests.support.invoke import in_process

API_FUNCTION = "RiskApiFunction"
BULK_FUNCTION = "RiskBulkScoringFunction"
USERS = 300
MERCHANTS = 60
WARMUP_PAYMENTS = 600


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Powertools writes a JSON log line and an EMF line per invocation to stdout; keep the report readable."""
    saved = sys.stdout
    sys.stdout = io.StringIO()
    try:
        yield
    finally:
        sys.stdout = saved


class Traffic:
    """Genuine-looking payments of USERS users (each with a phone and a home IP) at MERCHANTS merchants."""

    def __init__(self, seed: int = 3) -> None:
        self.rng = np.random.default_rng(seed)
        self.count = 0
        self.homes = self.rng.uniform([30.0, -120.0], [48.0, -75.0], size=(USERS, 2))

    def payment(self, when: datetime | None = None) -> dict[str, Any]:
        self.count += 1
        user = int(self.rng.integers(USERS))
        lat, lon = self.homes[user]
        return {
            "transaction_id": f"bench-{self.count:07d}-{int(self.rng.integers(1 << 30))}",
            "user_id": f"bench-u{user}",
            "device_id": f"bench-d{user}",
            "ip": f"198.18.{user // 250}.{user % 250}",
            "merchant_id": f"bench-m{int(self.rng.zipf(1.6)) % MERCHANTS}",
            "amount": round(float(self.rng.lognormal(3.3, 0.8)), 2),
            "currency": "USD",
            "timestamp": (when or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "location": {"lat": float(lat), "lon": float(lon)},
            "payment_method": "card",
            "card_id": f"bench-c{user}",
        }


def prepare(local: LocalStack) -> dict[str, float]:
    """Train the risk artifacts (the production pipeline, seed 7), publish, validate and activate them."""
    import model_build.risk

    setup: dict[str, float] = {}
    started = time.perf_counter()
    print("  setup: training risk-model and risk-graph on the simulator (model_build.risk.build)", flush=True)
    built = model_build.risk.build(local.workdir / "risk-src")
    setup["train"] = time.perf_counter() - started
    started = time.perf_counter()
    for artifact in built:
        local.serve(artifact)
    setup["publish, validate, activate"] = time.perf_counter() - started
    return setup


def _load(local: LocalStack, logical_id: str) -> tuple[Any, LambdaContext]:
    spec = local.worker(logical_id)
    for path in reversed(spec.extra_paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    handler = load_handler(local.function(logical_id).code_uri, spec.module, spec.attribute)
    return handler, LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout)


def _environment(local: LocalStack, logical_id: str) -> dict[str, str]:
    return {
        **local.worker(logical_id).environment,
        "HEARTBEAT_SECONDS": WARM_HEARTBEAT_SECONDS,
        "MODEL_CACHE_DIR": str(local.workdir / "model-cache"),
    }


def score_benchmark(local: LocalStack, report: Report, calls: int) -> None:
    with patched_environ(_environment(local, API_FUNCTION)):
        app, context = _load(local, API_FUNCTION)
        traffic = Traffic()
        started = time.perf_counter()
        with _quiet_stdout():
            for _ in range(WARMUP_PAYMENTS):  # velocity state for every user, device, IP and merchant
                event = local.api_event("POST", "/risk/score", json.dumps(traffic.payment()).encode())
                assert app(event, context)["statusCode"] == 200
        print(
            f"  setup: {WARMUP_PAYMENTS} warm-up payments scored in {time.perf_counter() - started:.1f} s", flush=True
        )

        store, loaded, graph = service.store(), service.model_loader().get(), service.graph()
        model = loaded.model
        snapshot = graph.model if graph is not None else None
        assert snapshot is not None, "risk-graph is active"
        ddb = aws.client("dynamodb")
        pool = concurrent.futures.ThreadPoolExecutor(5)

        def keys(p: dict[str, Any]) -> list[str]:
            return [
                entity_key("user", p["user_id"]),
                entity_key("device", p["device_id"]),
                entity_key("ip", p["ip"]),
                entity_key("merchant", p["merchant_id"]),
            ]

        def compute(p: dict[str, Any], states: dict[str, Any]) -> None:
            t = datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00")).timestamp()
            ids = (p["user_id"], p["device_id"], p["ip"], p["merchant_id"])
            lat, lon = p["location"]["lat"], p["location"]["lon"]
            features = payment_features(*ids, p["amount"], t, lat, lon, states, snapshot)
            pre_model_rules(p["amount"], {}, model.policy.rules)
            model.score(features)
            post_model_rules(p["amount"], rule_inputs(features, p["device_id"], t, states), model.policy.rules)
            payment_updates(*ids, p["amount"], t, lat, lon, states)

        def io_floor(entity_keys: list[str], floor_id: str, updates: list[dict[str, Any]]) -> None:
            ddb.batch_get_item(
                RequestItems={
                    store.state_table: {"Keys": [{"entity": {"S": k}} for k in entity_keys], "ConsistentRead": True},
                    store.results_table: {"Keys": [{"transaction_id": {"S": floor_id}}], "ConsistentRead": True},
                }
            )
            claim = functools.partial(
                ddb.put_item,
                TableName=store.results_table,
                Item={"transaction_id": {"S": floor_id}, "score": {"N": "0.1"}},
                ConditionExpression="attribute_not_exists(transaction_id)",
            )
            writes = [claim] + [functools.partial(ddb.update_item, **r) for r in updates]
            for future in [pool.submit(w) for w in writes]:  # one parallel round, as the handler writes
                future.result()
            ddb.update_item(  # then the result's `applied` mark
                TableName=store.results_table,
                Key={"transaction_id": {"S": floor_id}},
                UpdateExpression="SET applied = :yes",
                ConditionExpression="attribute_exists(score)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )

        # Each sample gets its own transaction (a repeat would be answered from the stored result).
        samples: dict[str, list[float]] = {"handler": [], "io": [], "compute": [], "ort": [], "ort_batch": []}
        clock = time.perf_counter
        with _quiet_stdout():
            for i in range(calls + 20):
                payment = traffic.payment()
                event = local.api_event("POST", "/risk/score", json.dumps(payment).encode())
                states, _ = store.read(keys(payment))  # not timed: the compute side's input
                t = datetime.fromisoformat(payment["timestamp"].replace("Z", "+00:00")).timestamp()
                ids = (payment["user_id"], payment["device_id"], payment["ip"], payment["merchant_id"])
                loc = payment["location"]
                features = payment_features(*ids, payment["amount"], t, loc["lat"], loc["lon"], states, snapshot)
                row = np.asarray([features], dtype=np.float32)
                occlusion = np.repeat(row, len(FEATURE_NAMES) + 1, axis=0)  # the shape the reasons score
                updates = [
                    update_request(store.state_table, u, states.get(u.key))
                    for u in payment_updates(*ids, payment["amount"], t, loc["lat"], loc["lon"], states)
                ]
                floor_id = f"floor-{payment['transaction_id']}"
                sides: list[tuple[str, Callable[[], Any]]] = [
                    ("handler", functools.partial(app, event, context)),
                    ("io", functools.partial(io_floor, keys(payment), floor_id, updates)),
                    ("compute", functools.partial(compute, payment, states)),
                    ("ort", functools.partial(model.session.run, ["probabilities"], {"features": row})),
                    ("ort_batch", functools.partial(model.session.run, ["probabilities"], {"features": occlusion})),
                ]
                rotation = sides[i % len(sides) :] + sides[: i % len(sides)]
                for name, fn in rotation:
                    begun = clock()
                    fn()
                    if i >= 20:
                        samples[name].append(clock() - begun)
        pool.shutdown()

    p = {name: (percentile(v, 50), percentile(v, 99)) for name, v in samples.items()}
    labels = {
        "handler": "handler  POST /risk/score (Chalice, proxy event, moto I/O)",
        "io": "I/O floor  the same DynamoDB calls, bare boto3 (a read, then 5 writes in parallel)",
        "compute": f"compute  features + rules + ORT ({1 + len(FEATURE_NAMES)} rows, occlusion reasons)",
        "ort": "bare ORT  session.run, 1 row",
        "ort_batch": f"bare ORT  session.run, {1 + len(FEATURE_NAMES)} rows (what the reasons need)",
    }
    rows = [
        [
            labels[n],
            fmt_seconds(p[n][0]),
            fmt_seconds(p[n][1]),
            fmt_ratio(ratio(p[n][0], p["ort"][0])),
            fmt_ratio(ratio(p[n][0], p["io"][0] + p["compute"][0])),
        ]
        for n in samples
    ]
    print(f"\n  POST /risk/score: {calls} calls per side, interleaved, {USERS} users, {MERCHANTS} merchants")
    print(table(["", "p50", "p99", "p50 vs bare ORT", "p50 vs I/O floor + compute"], rows))
    report.add(
        "risk",
        "POST /risk/score handler vs I/O floor + compute (p50)",
        fmt_seconds(p["handler"][0]),
        fmt_seconds(p["io"][0] + p["compute"][0]),
        ratio(p["handler"][0], p["io"][0] + p["compute"][0]),
        f"handler p99 {fmt_seconds(p['handler'][1])} (target: well under 50 ms)",
    )
    report.add(
        "risk",
        "risk compute path vs bare ORT of the same batch (reasons included) (p50)",
        fmt_seconds(p["compute"][0]),
        fmt_seconds(p["ort_batch"][0]),
        ratio(p["compute"][0], p["ort_batch"][0]),
        "the rest is the velocity features and rules in Python",
    )
    report.add(
        "risk",
        "risk compute path (features + rules + ORT with reasons) vs bare ORT (p50)",
        fmt_seconds(p["compute"][0]),
        fmt_seconds(p["ort"][0]),
        ratio(p["compute"][0], p["ort"][0]),
        f"p99 {fmt_ratio(ratio(p['compute'][1], p['ort'][1]))}",
    )


def bulk_benchmark(local: LocalStack, report: Report, transactions: int) -> None:
    """Queue `transactions` payments and drain them with the runner's SQS source (batches of 10, one
    consumer), against the same number of sequential `POST /risk/score` handler calls."""
    queue_url = aws.client("sqs").get_queue_url(QueueName=local.stack.physical_name("RiskTransactionsQueue"))[
        "QueueUrl"
    ]
    traffic = Traffic(seed=5)
    payments = [traffic.payment() for _ in range(transactions)]
    sqs = aws.client("sqs")
    for start in range(0, transactions, 10):
        chunk = payments[start : start + 10]
        sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": json.dumps(p)} for i, p in enumerate(chunk)]
        )
    with patched_environ(_environment(local, BULK_FUNCTION)):
        source = QueueSource(
            BULK_FUNCTION, queue_url, local.stack.arn("RiskTransactionsQueue"), batch_size=10, report_failures=True
        )
        invoke = in_process(local.stack)
        done = 0
        started = time.perf_counter()
        with _quiet_stdout():
            while done < transactions:
                batch = source.receive_batch(threading.Event(), wait_seconds=1)
                if not batch:
                    break
                failed = source.process(batch, invoke)
                done += len(batch) - len(failed)
        bulk_seconds = time.perf_counter() - started
    with patched_environ(_environment(local, API_FUNCTION)):
        app, context = _load(local, API_FUNCTION)
        sync = [traffic.payment() for _ in range(transactions)]
        started = time.perf_counter()
        with _quiet_stdout():
            for payment in sync:
                app(local.api_event("POST", "/risk/score", json.dumps(payment).encode()), context)
        sync_seconds = time.perf_counter() - started
    bulk_rate, sync_rate = done / bulk_seconds, transactions / sync_seconds
    print(
        f"\n  bulk queue scoring: {done:,}/{transactions:,} transactions in {bulk_seconds:.1f} s = {bulk_rate:.0f}/s "
        f"(one consumer, batches of 10); sequential POST /risk/score: {sync_rate:.0f}/s"
    )
    report.add(
        "risk",
        "bulk queue scoring throughput vs sequential handler calls",
        f"{bulk_rate:.0f}/s",
        f"{sync_rate:.0f}/s",
        ratio(bulk_rate, sync_rate),
        f"{done} of {transactions} scored; one consumer; Lambda scales consumers with the queue",
    )


def run(local: LocalStack, report: Report, calls: int = 1000, bulk: int = 1000) -> None:
    heading("RISK: POST /risk/score LATENCY AND BULK QUEUE THROUGHPUT (in process, against the emulator)")
    try:
        with patched_environ(local.env):
            setup = prepare(local)
    except Exception as exc:
        report.error("risk: setup", exc)
        return
    for name, bench in (
        ("risk: score latency", lambda: score_benchmark(local, report, calls)),
        ("risk: bulk throughput", lambda: bulk_benchmark(local, report, bulk)),
    ):
        try:
            bench()
        except Exception as exc:
            report.error(name, exc)
    print("\n  setup (not measured): " + ", ".join(f"{w} {s:.1f} s" for w, s in setup.items()), flush=True)

"""Forecasting: the default build, the API's model paths against bare ONNX Runtime, and the daily fan-out.

1. The default build (`model_build.forecasting.build`: read Dominick's OJ through pricing's loader, fit the
   p10/p50/p90 boosters and the conformal band, export ONNX, train the allocation policy) timed once, against
   the 60 s budget a capability's build has at `up` (the machine's load average is printed beside it: it
   decides the figure). Both models are then published, validated and activated as `up` does.
2. POST /forecasts/what-if on the ForecastingApiFunction handler (Chalice, API Gateway proxy event), p50/p99,
   against bare ORT of exactly the rows it runs (the baseline's 8 rows and the plan's 8: two session.run on
   rows built beforehand), and against the same two forecasts in memory (`ForecastModel.forecast`: features
   + ORT + units). GET /forecasts/{sku} and GET /forecasts/{sku}/plot (no model: one or two GetItems) against
   the emulator's floor, the same GetItems sent with bare boto3. Sides interleaved, each first in turn.
3. The daily fan-out over N synthetic SKUs (weekly histories with price cuts, 104 weeks): the schedule
   handler in process, then one worker draining ForecastChunksQueue through the runner's own SQS source
   (receive 10 chunks, one ForecastChunkFunction invocation, delete), until the job's status says done.
   SKUs/s per worker (handler time, and with the poller's receive/delete) against bare ORT of the same rows
   (features built beforehand, one session.run per chunk of 100 SKUs), and the chunks' compute alone
   (`forecast_histories` in memory). Then what AWS would bill for the run (tests/benchmarks/_cost.py) and
   the Lambda duration at the template's memory, per 100,000 SKUs (linear: every part of the run is).

4. The same fan-out drained by 2 and 4 concurrent workers (`--forecast-workers`; the template allows 10), each
   a forked process polling the queue as the runner does: SKUs/s per worker and the scaling against the one
   worker of 3, with the load average before and after each run.

Seeding histories is setup: timed for orientation, never measured.
"""

from __future__ import annotations

import copy
import gc
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from commerce_ai import aws
from commerce_ai.forecasting import service
from commerce_ai.forecasting.features import feature_rows, season_of
from commerce_ai.forecasting.jobs import CHUNK_SIZE, JobLog
from commerce_ai.forecasting.records import SalesHistory
from commerce_ai.forecasting.store import FORECAST, HISTORY, ForecastingStore
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.local import rule_arn
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import QueueSource
from tests.benchmarks._cost import PRICES, bill, counting_calls
from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, percentile, ratio, table
from tests.benchmarks._stack import WARM_HEARTBEAT_SECONDS, LocalStack, patched_environ
from tests.benchmarks.warm_overhead import _quiet_stdout
from tests.support.forecasting import sales_history

API_FUNCTION = "ForecastingApiFunction"
DAILY_FUNCTION, CHUNK_FUNCTION = "ForecastDailyFunction", "ForecastChunkFunction"
BUILD_BUDGET = 60.0  # seconds: a capability's default build at `up` (the helper brief's standard)
WEEKS = 104
API_SKUS = 200
PLAN_PRICES = [1.99, 1.99, 2.49, 2.49, 2.49, 2.49, 2.49, 2.49]  # two weeks of a price cut on promotion
PLAN_PROMOTIONS = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
LAMBDA_GB_SECOND = 0.0000166667  # x86, us-east-1 list price (December 2026)


@dataclass
class Fixture:
    version: str
    histories: list[SalesHistory]
    setup: dict[str, float] = field(default_factory=dict)


def _load(local: LocalStack, logical_id: str) -> tuple[Any, LambdaContext, dict[str, str]]:
    spec = local.worker(logical_id)
    for path in reversed(spec.extra_paths):
        if path not in sys.path:
            sys.path.insert(0, path)
    environment = {
        **spec.environment,
        "HEARTBEAT_SECONDS": WARM_HEARTBEAT_SECONDS,
        "MODEL_CACHE_DIR": str(local.workdir / "model-cache"),
    }
    with patched_environ(environment):
        handler = load_handler(local.function(logical_id).code_uri, spec.module, spec.attribute)
    context = LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout)
    return handler, context, environment


def prepare(local: LocalStack, report: Report, skus: int) -> Fixture:
    import model_build.forecasting

    setup: dict[str, float] = {}
    load = os.getloadavg()[0]
    started = time.perf_counter()
    print("  building forecasting-demand as `up` does (model_build.forecasting.build; OJ cached under data/cache)")
    built, allocation = model_build.forecasting.build(local.workdir / "forecasting-src")
    took = time.perf_counter() - started
    print(f"  default build: {fmt_seconds(took)} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
    report.add(
        "forecasting",
        "default build (OJ read, 3 boosters + conformal, ONNX, allocation policy) vs the 60 s budget",
        fmt_seconds(took),
        fmt_seconds(BUILD_BUDGET),
        ratio(took, BUILD_BUDGET),
        f"load average {load:.1f} on 2 cores",
    )
    started = time.perf_counter()
    manifest = local.serve(built)
    local.serve(allocation)
    setup["publish, validate, activate"] = time.perf_counter() - started

    started = time.perf_counter()
    histories = [sales_history(f"bench-{i:06d}", weeks=WEEKS, level=5.0 + i % 200, seed=i) for i in range(skus)]
    ForecastingStore(local.stack.physical_name("ForecastingTable")).put_many((h.sku, HISTORY, h) for h in histories)
    setup[f"seed {skus:,} histories (BatchWriteItem)"] = time.perf_counter() - started
    return Fixture(version=manifest.version, histories=histories, setup=setup)


Side = tuple[str, Callable[[str], None]]


def _interleaved(sides: list[Side], order: list[str], warmup: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name, _ in sides}
    clock = time.perf_counter
    for i, sku in enumerate(order):
        for name, fn in sides[i % len(sides) :] + sides[: i % len(sides)]:  # every side goes first in turn
            started = clock()
            fn(sku)
            if i >= warmup:
                samples[name].append(clock() - started)
    return samples


def _ok(response: Any, what: str) -> None:
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        raise RuntimeError(f"{what} did not succeed: {response!r}"[:2000])


def api_benchmark(local: LocalStack, report: Report, fixture: Fixture, calls: int) -> None:
    app, context, environment = _load(local, API_FUNCTION)
    with patched_environ(environment):
        service.forecast_loader.cache_clear()
        loaded = service.forecast_model()
        if loaded.version != fixture.version:
            raise RuntimeError(f"the served model is {loaded.version}, expected {fixture.version}")
        model = loaded.model
        picked = fixture.histories[:API_SKUS]
        forecasts = service.forecast_histories(picked, loaded, datetime.now(UTC))
        store = service.store()
        store.put_many((f.sku, FORECAST, f) for f in forecasts)
        by_sku = {h.sku: h for h in picked}
        season = season_of("W")
        steps = np.arange(1, 9)

        def rows(series: Any) -> np.ndarray:
            return feature_rows(series, np.full(8, series.observed - 1), steps, season)

        base_rows = {s: rows(h.series(8)) for s, h in by_sku.items()}
        plan_rows = {s: rows(h.series(8, PLAN_PRICES, PLAN_PROMOTIONS)) for s, h in by_sku.items()}
        plan = {"prices": PLAN_PRICES, "promotions": PLAN_PROMOTIONS}
        body = {s: json.dumps({"sku": s, **plan}).encode() for s in by_sku}
        what_if_events = {s: local.api_event("POST", "/forecasts/what-if", body[s]) for s in by_sku}
        get_events = {s: local.api_event("GET", f"/forecasts/{s}") for s in by_sku}
        svg = {"Accept": "image/svg+xml"}  # the JSON default Accept takes neither chart: a 406
        plot_events = {s: local.api_event("GET", f"/forecasts/{s}/plot", headers=svg) for s in by_sku}
        ddb, table_name = store.ddb, store.table

        def what_if(sku: str) -> None:
            _ok(app(copy.deepcopy(what_if_events[sku]), context), "POST /forecasts/what-if")

        def in_memory(sku: str) -> None:
            history = by_sku[sku]
            model.forecast([history.series(8)], 8)
            model.forecast([history.series(8, PLAN_PRICES, PLAN_PROMOTIONS)], 8)

        def bare(sku: str) -> None:
            model.predict_relative(base_rows[sku])
            model.predict_relative(plan_rows[sku])

        def get(sku: str) -> None:
            _ok(app(copy.deepcopy(get_events[sku]), context), "GET /forecasts/{sku}")

        def plot(sku: str) -> None:
            _ok(app(copy.deepcopy(plot_events[sku]), context), "GET /forecasts/{sku}/plot")

        def floor(sku: str) -> None:
            ddb.get_item(TableName=table_name, Key={"sku": {"S": sku}, "record": {"S": FORECAST}})

        sides: list[Side] = [
            ("handler  POST /forecasts/what-if", what_if),
            ("direct   ForecastModel.forecast x2 in memory", in_memory),
            ("bare     session.run x2, 8 rows each (rows built before)", bare),
            ("handler  GET /forecasts/{sku}", get),
            ("handler  GET /forecasts/{sku}/plot (SVG)", plot),
            ("bare     GetItem of the forecast (the emulator's floor)", floor),
        ]
        warmup = 20
        order = [picked[i % len(picked)].sku for i in range(calls + warmup)]
        with _quiet_stdout():
            samples = _interleaved(sides, order, warmup)
    p = {name: (percentile(v, 50), percentile(v, 99)) for name, v in samples.items()}
    names = [name for name, _ in sides]
    ort50, ort99 = p[names[2]]
    floor50, floor99 = p[names[5]]
    rows_out = [
        [n, fmt_seconds(a), fmt_seconds(b), fmt_ratio(ratio(a, ort50)), fmt_ratio(ratio(a, floor50))]
        for n, (a, b) in p.items()
    ]
    print(f"\n  {calls} calls per side over {len(picked)} SKUs, interleaved")
    print(table(["", "p50", "p99", "p50 vs bare ORT", "p50 vs bare GetItem"], rows_out))
    h50, h99 = p[names[0]]
    m50, _ = p[names[1]]
    report.add(
        "forecasting",
        "POST /forecasts/what-if handler vs bare ORT, same 16 rows (p50)",
        fmt_seconds(h50),
        fmt_seconds(ort50),
        ratio(h50, ort50),
        f"p99 {fmt_seconds(h99)} vs {fmt_seconds(ort99)}: {fmt_ratio(ratio(h99, ort99))}; "
        f"in memory {fmt_ratio(ratio(m50, ort50))}",
    )
    for name, label in ((names[3], "GET /forecasts/{sku}"), (names[4], "GET /forecasts/{sku}/plot")):
        a, b = p[name]
        report.add(
            "forecasting",
            f"{label} handler vs bare GetItem (p50)",
            fmt_seconds(a),
            fmt_seconds(floor50),
            ratio(a, floor50),
            f"p99 {fmt_seconds(b)} vs {fmt_seconds(floor99)}: {fmt_ratio(ratio(b, floor99))}",
        )


def _timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def fanout_benchmark(local: LocalStack, report: Report, fixture: Fixture) -> tuple[float, float, float]:
    """The daily fan-out drained by one worker in process; returns the drain (after the daily handler queued
    the chunks) in seconds with the load average before and after it: the one-worker row of the scaling."""
    daily, daily_context, daily_env = _load(local, DAILY_FUNCTION)
    chunk, chunk_context, chunk_env = _load(local, CHUNK_FUNCTION)
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=local.stack.physical_name("ForecastChunksQueue"))["QueueUrl"]
    arn = local.stack.arn("ForecastChunksQueue")
    source = QueueSource(CHUNK_FUNCTION, url, arn, batch_size=10, report_failures=True)
    handler_seconds = [0.0]
    invocations = [0]

    def invoke(_function: str, event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            with patched_environ(chunk_env):
                return chunk(event, chunk_context)
        finally:
            handler_seconds[0] += time.perf_counter() - started
            invocations[0] += 1

    with patched_environ(chunk_env):
        service.forecast_loader.cache_clear()
        loaded = service.forecast_model()  # a warm container: the model load is not in the figures
    skus = len(fixture.histories)
    stop = threading.Event()
    with _quiet_stdout(), counting_calls() as calls:
        started = time.perf_counter()
        with patched_environ(daily_env):
            summary = daily(scheduled_event(rule_arn(local.stack, local.function(DAILY_FUNCTION))), daily_context)
        queued = time.perf_counter() - started
        load_before = os.getloadavg()[0]
        job_log = JobLog(local.stack.physical_name("ForecastingTable"))
        idle = 0
        while idle < 3:
            status = job_log.status(summary["job"])
            if status is not None and status.done >= status.chunks:
                break
            idle = 0 if source.poll_once(invoke, stop, wait_seconds=1) else idle + 1
        total = time.perf_counter() - started
    drained = (total - queued, load_before, os.getloadavg()[0])
    status = job_log.status(summary["job"])
    if status is None or status.done < status.chunks:
        raise RuntimeError(f"the fan-out stopped at {status}")

    # Baselines over the same SKUs: bare ORT per chunk (rows built beforehand), and the compute alone.
    chunks = [fixture.histories[i : i + CHUNK_SIZE] for i in range(0, skus, CHUNK_SIZE)]
    season, steps = season_of("W"), np.arange(1, 9)
    chunk_rows = [
        np.vstack([feature_rows(h.series(8), np.full(8, len(h.units) - 1), steps, season) for h in c]) for c in chunks
    ]
    bare = _timed(lambda: [loaded.model.predict_relative(x) for x in chunk_rows])
    computed: list[Any] = []
    compute = _timed(lambda: computed.extend(service.forecast_histories(c, loaded, datetime.now(UTC)) for c in chunks))
    handler = handler_seconds[0]
    print(
        f"\n  job {summary['job']}: {skus:,} SKUs in {summary['chunks']} chunks, queued in {fmt_seconds(queued)} "
        f"(daily handler: filtered Scan + SendMessageBatch), drained by one worker in {invocations[0]} invocations"
    )
    rows_out = [
        [what, fmt_seconds(seconds), f"{skus / seconds:,.0f}", fmt_ratio(ratio(seconds, bare))]
        for what, seconds in (
            ("whole run (daily + poller + chunk handlers)", total),
            ("chunk handlers only", handler),
            ("compute only (forecast_histories in memory)", compute),
            ("bare ORT, one session.run per chunk", bare),
        )
    ]
    print(table(["", "time", "SKUs/s per worker", "vs bare ORT"], rows_out))
    report.add(
        "forecasting",
        f"daily fan-out, {skus:,} SKUs, 1 worker: chunk handlers vs bare ORT",
        f"{skus / handler:,.0f} SKUs/s ({fmt_seconds(handler)})",
        f"{skus / bare:,.0f} SKUs/s ({fmt_seconds(bare)})",
        ratio(handler, bare),
        f"whole run {skus / total:,.0f} SKUs/s; compute only {fmt_ratio(ratio(compute, bare))} of bare ORT",
    )

    # What AWS would bill. The Scan reads (and bills) every item of the table whatever its filter, which the
    # call log cannot see: its read units come from the items' sizes (eventually consistent, 4 KB units).
    # In the steady state the table holds each SKU's history and its forecast: the Scan reads both.
    forecast_bytes = sum(len(f.model_dump_json()) + 40 for batch in computed for f in batch)
    scanned = sum(len(h.model_dump_json()) + 40 for h in fixture.histories) + forecast_bytes
    scan_rru = scanned / 4096 * 0.5
    billed = bill(calls, lambda_invocations=1 + invocations[0])
    memory_gb = local.function(CHUNK_FUNCTION).memory / 1024
    duration = (handler + queued) * memory_gb * LAMBDA_GB_SECOND
    dollars = billed["dollars"] + scan_rru * PRICES["dynamodb_rru"] + duration
    per_100k = 100_000 / skus
    print(
        f"  AWS bill of the run (cost model): {billed['sqs_request']:,.0f} SQS requests, "
        f"{billed['dynamodb_wru']:,.0f} WRU, {billed['dynamodb_rru'] + scan_rru:,.0f} RRU (Scan {scan_rru:,.0f}), "
        f"{1 + invocations[0]} invocations, {handler + queued:,.1f} s x {memory_gb:g} GB of Lambda duration "
        f"(as measured here): ${dollars:.4f}; per 100,000 SKUs ${dollars * per_100k:.3f} a day "
        f"(${dollars * per_100k * 30:.2f} a month)"
    )
    report.add(
        "forecasting",
        "daily fan-out, AWS bill per 100,000 SKUs (cost model)",
        f"${dollars * per_100k:.3f} a day",
        "-",
        None,
        f"duration {duration / dollars:.0%} of it, "
        f"DynamoDB writes {billed['dynamodb_wru'] * PRICES['dynamodb_wru'] / dollars:.0%}",
    )
    return drained


def scaling_benchmark(
    local: LocalStack, report: Report, fixture: Fixture, workers: list[int], one: tuple[float, float, float]
) -> None:
    """The same fan-out drained by N concurrent workers, each a forked process (its own chunk handler and
    clients, the GIL not shared) polling ForecastChunksQueue as the runner's SQS source does; one new job
    per N. SKUs/s per worker and the scaling against one worker (`one`: the in-process drain of
    `fanout_benchmark`, seconds and load average before / after), with the machine's load average beside
    each: the emulator and the workers share the same 2 cores."""
    import multiprocessing

    daily, daily_context, daily_env = _load(local, DAILY_FUNCTION)
    chunk, chunk_context, chunk_env = _load(local, CHUNK_FUNCTION)
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=local.stack.physical_name("ForecastChunksQueue"))["QueueUrl"]
    arn = local.stack.arn("ForecastChunksQueue")
    table_name = local.stack.physical_name("ForecastingTable")
    with patched_environ(chunk_env):
        service.forecast_loader.cache_clear()
        service.forecast_model()  # loaded before the fork: every worker is a warm container
    skus = len(fixture.histories)
    fork = multiprocessing.get_context("fork")

    def drain(job: str, results: Any) -> None:
        aws.reset_clients()  # no socket shared with the parent or a sibling
        source = QueueSource(CHUNK_FUNCTION, url, arn, batch_size=10, report_failures=True)
        spent, invocations = 0.0, 0

        def invoke(_function: str, event: dict[str, Any]) -> Any:
            nonlocal spent, invocations
            started = time.perf_counter()
            try:
                with patched_environ(chunk_env):
                    return chunk(event, chunk_context)
            finally:
                spent += time.perf_counter() - started
                invocations += 1

        job_log, stop, idle, errors = JobLog(table_name), threading.Event(), 0, 0
        try:
            with _quiet_stdout():
                while idle < 3:
                    try:
                        status = job_log.status(job)
                        if status is not None and status.done >= status.chunks:
                            break
                        idle = 0 if source.poll_once(invoke, stop, wait_seconds=1) else idle + 1
                    except Exception:  # the emulator timing out under load: back off and poll on, as the runner
                        errors += 1
                        time.sleep(2)
        finally:
            results.put((spent, invocations, errors))  # always: the parent waits for every worker's figures

    wall1, before1, after1 = one
    base = skus / wall1
    rows_out = [
        [
            "1 (in process)",
            fmt_seconds(wall1),
            f"{base:,.0f}",
            f"{base:,.1f}",
            "-",
            "1.00x",
            "100%",
            f"{before1:.1f} / {after1:.1f}",
            "-",
        ]
    ]
    for n in workers:
        with _quiet_stdout(), patched_environ(daily_env):
            summary = daily(scheduled_event(rule_arn(local.stack, local.function(DAILY_FUNCTION))), daily_context)
        load_before = os.getloadavg()[0]
        results = fork.Queue()
        started = time.perf_counter()
        processes = [fork.Process(target=drain, args=(summary["job"], results)) for _ in range(n)]
        for process in processes:
            process.start()
        per_worker = [results.get(timeout=3600) for _ in processes]
        for process in processes:
            process.join()
        wall = time.perf_counter() - started
        status = JobLog(table_name).status(summary["job"])
        if status is None or status.done < status.chunks:
            raise RuntimeError(f"the fan-out with {n} workers stopped at {status}")
        load_after = os.getloadavg()[0]
        throughput = skus / wall
        handler = sum(spent for spent, _, _ in per_worker)
        rows_out.append(
            [
                str(n),
                fmt_seconds(wall),
                f"{throughput:,.0f}",
                f"{throughput / n:,.1f}",
                f"{skus / handler:,.1f}" if handler else "-",
                f"{throughput / base:.2f}x",
                f"{throughput / base / n:.0%}",
                f"{load_before:.1f} / {load_after:.1f}",
                " ".join(f"{i}" + (f" ({e} errors)" if e else "") for _, i, e in per_worker),
            ]
        )
        report.add(
            "forecasting",
            f"daily fan-out, {skus:,} SKUs, {n} concurrent worker(s): SKUs/s per worker",
            f"{throughput / n:,.1f} SKUs/s per worker ({fmt_seconds(wall)} to done)",
            f"{base:,.1f} SKUs/s (1 worker)",
            ratio(throughput, base * n),
            f"scaling {throughput / base:.2f}x with {n}; load average {load_before:.1f} before, {load_after:.1f} after",
        )
    print(f"\n  the same {skus:,} SKUs drained by N forked workers (one job each; emulator and workers share 2 cores)")
    print(
        table(
            [
                "workers",
                "wall to done",
                "SKUs/s",
                "SKUs/s per worker",
                "per worker, in its handlers",
                "scaling",
                "efficiency",
                "load before / after",
                "invocations per worker",
            ],
            rows_out,
        )
    )


def run(
    local: LocalStack, report: Report, skus: int = 10_000, calls: int = 500, workers: list[int] | None = None
) -> None:
    heading(f"FORECASTING: DEFAULT BUILD, API VS BARE ORT, DAILY FAN-OUT OVER {skus:,} SKUs (in process, emulator)")
    try:
        with patched_environ(local.env):
            fixture = prepare(local, report, skus)
    except Exception as exc:
        report.error("forecasting: setup", exc)
        return
    drained: list[tuple[float, float, float]] = []
    for name, bench in (
        ("forecasting: API latency", lambda: api_benchmark(local, report, fixture, calls)),
        ("forecasting: daily fan-out", lambda: drained.append(fanout_benchmark(local, report, fixture))),
        (
            "forecasting: fan-out scaling",
            lambda: scaling_benchmark(local, report, fixture, workers or [2, 4], drained[0]) if drained else None,
        ),
    ):
        try:
            with patched_environ(local.env):
                bench()
        except Exception as exc:
            report.error(name, exc)
    print("\n  setup (not measured): " + ", ".join(f"{k} {v:.1f} s" for k, v in fixture.setup.items()), flush=True)

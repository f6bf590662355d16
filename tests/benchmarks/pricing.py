"""Repricing at catalog scale and quote latency, in process, against the emulator.

1. Repricing tick: the schedule handler (functions/pricing/reprice.py, RepricingFunction) invoked in this
   process with a scheduled event, which plans the tick and queues its chunks on RepriceChunksQueue, then
   the chunk worker (functions/pricing/reprice_chunks.py, RepriceChunkFunction) run in this process on
   every chunk, one after another, as the local runner's queue worker runs them, over a synthetic catalog
   of N SKUs (Dominick's OJ SKUs replicated with a few percent of noise on price, cost and demand level)
   priced by the real OJ demand model (the 400-tree LightGBM as ONNX) whose serving table covers every
   replica. Three ticks, each measured alone:
   the first over the fresh catalog (most SKUs change), the next one 15 minutes later, and one over a
   settled catalog (prices already at the policy's targets after days of ticks: the steady state).
   Headline: SKUs/s of the whole tick (plan and chunks), as a ratio to bare batched ONNX Runtime inference of exactly
   the rows the tick priced (demand_features + one session.run on the served session), measured in the
   same run. Then where the tick's time goes, phase by phase, and for each I/O phase its floor: the same
   requests sent with bare boto3 (emulator + SDK, none of our code): the plan's key Scan and the chunks'
   BatchGetItems, the audit items, the catalog updates. And the tick's compute alone:
   run_tick over the same states held in memory (no I/O) against the same bare inference.
2. POST /pricing/quote on the PricingApiFunction handler (Chalice, API Gateway proxy event) with 5
   candidate prices, p50/p99, against quotes.quote on an in-memory SkuState and against bare ORT of the
   rows a quote needs, calls interleaved so drift on the shared machine hits every side alike.

Building the model, seeding the catalog and settling it are setup: timed for orientation, never measured.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import dataclasses
import functools
import gc
import json
import logging
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from commerce_ai import aws
from commerce_ai.clock import utc_now
from commerce_ai.pricing import catalog as catalog_module
from commerce_ai.pricing import decisions as decisions_module
from commerce_ai.pricing import service, ticks
from commerce_ai.pricing.catalog import SCAN_SEGMENTS, Applied, CatalogStore, SkuState
from commerce_ai.pricing.decisions import DecisionLog, DecisionRecord
from commerce_ai.pricing.demand import MODEL_NAME, SERVING_TABLE, DemandModel, ServingTable
from commerce_ai.pricing.features import demand_features
from commerce_ai.pricing.quotes import quote
from commerce_ai.pricing.repricing import reprice
from commerce_ai.pricing.seeding import seed_states
from commerce_ai.pricing.tick_log import TickLog
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.local import rule_arn
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import QueueSource
from model_build import Built
from tests.benchmarks._cost import CallLog, bill, counting_calls, resolve_reads, resolve_updates
from tests.benchmarks._report import (
    Report,
    fmt_ratio,
    fmt_seconds,
    heading,
    median,
    percentile,
    ratio,
    table,
)
from tests.benchmarks._stack import WARM_HEARTBEAT_SECONDS, LocalStack, patched_environ
from tests.benchmarks.warm_overhead import _quiet_stdout

TICK_FUNCTION = "RepricingFunction"
CHUNK_FUNCTION = "RepriceChunkFunction"
API_FUNCTION = "PricingApiFunction"
NOISE = 0.05  # replicas' price and cost: uniform within ±5% of the OJ SKU's
LEVEL_NOISE = 0.05  # replicas' demand level: + N(0, 0.05) in log units
SETTLE_DAYS = 8  # at most this many daily ticks (in memory) to bring the catalog to its targets
BARE_REPS = 4  # bare inference runs per tick, interleaved with the compute-only runs
COMPUTE_REPS = 3
# A tick whose chunks are not all counted by then is reported as not finished: at least 900 s, and this
# much per chunk (`--pricing-chunk-seconds`), so a bigger catalogue gets the time its chunk count needs.
CHUNKS_DEADLINE_S = 900
CHUNK_SECONDS = 30.0
PROGRESS_S = 60  # how often a running tick says how many chunks are counted
QUOTE_SKUS = 200
QUOTE_CANDIDATES = (0.9, 0.95, 1.0, 1.05, 1.1)  # x the current price
AUDIT_BATCH = decisions_module.BATCH
AUDIT_THREADS = decisions_module.WRITE_THREADS
APPLY_THREADS = catalog_module.WRITE_THREADS


# ----------------------------------------------------------------------------------------- setup


@dataclass
class Fixture:
    """What the benchmarks share: the synthetic catalog, its serving table and the served model version."""

    states: list[SkuState]
    table: ServingTable
    version: str
    catalog_table: str
    decisions_table: str
    setup: dict[str, float] = field(default_factory=dict)


def _replicated(base: ServingTable, skus: int, seed: int = 7) -> ServingTable:
    """`skus` replicas of the OJ SKUs that have a price and cost: `oj-<store>-<brand>.<replica>` with
    price and cost jittered by ±NOISE (cost kept below price) and the demand level by LEVEL_NOISE."""
    sources = sorted((s, p) for s, p in base.skus.items() if p.price and p.cost and p.cost < p.price)
    if not sources:
        raise RuntimeError("the OJ serving table has no SKU with a price and cost")
    rng = np.random.default_rng(seed)
    price_noise = rng.uniform(1 - NOISE, 1 + NOISE, skus)
    cost_noise = rng.uniform(1 - NOISE, 1 + NOISE, skus)
    level_noise = rng.normal(0.0, LEVEL_NOISE, skus)
    profiles = {}
    for i in range(skus):
        sku, profile = sources[i % len(sources)]
        assert profile.price is not None and profile.cost is not None
        price = round(profile.price * float(price_noise[i]), 2)
        cost = min(round(profile.cost * float(cost_noise[i]), 2), round(price * 0.95, 2))
        profiles[f"{sku}.{i // len(sources):05d}"] = profile.model_copy(
            update={
                "level": profile.level + float(level_noise[i]),
                "price": price,
                "cost": cost,
                # each round of replicas is its own set of stores, so cross prices come from its own brands
                "market": f"{profile.market}.{i // len(sources)}" if profile.market is not None else None,
            }
        )
    return base.model_copy(update={"skus": profiles})


def _batch_write(
    table: str, items: list[dict[str, Any]], threads: int, progress: tqdm[Any] | None = None, batch: int = 25
) -> None:
    """BatchWriteItem in `threads` threads, `batch` items a call, retrying unprocessed items."""
    client = aws.client("dynamodb", bulk=True)

    def write(chunk: list[dict[str, Any]]) -> int:
        request: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        for attempt in range(10):
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                return len(chunk)
            time.sleep(min(0.05 * 2**attempt, 2.0))
        raise RuntimeError(f"{len(request.get(table, []))} items stayed unprocessed")

    chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
    with concurrent.futures.ThreadPoolExecutor(min(threads, max(1, len(chunks)))) as pool:
        for written in pool.map(write, chunks):
            if progress is not None:
                progress.update(written)


def _catalog_items(states: list[SkuState], revision: int) -> list[dict[str, Any]]:
    """The catalog's items holding exactly `states`, one per SKU, as CatalogStore writes them."""
    stamp = utc_now()
    return [
        catalog_module.to_item(state.model_copy(update={"updated_at": stamp, "revision": revision})) for state in states
    ]


def _fill_catalog(table: str, states: list[SkuState], what: str, revision: int = 1) -> float:
    """Write the whole catalog as `states` (overwriting its items), setup for the ticks."""
    started = time.perf_counter()
    items = _catalog_items(states, revision)
    with tqdm(total=len(items), desc=f"  {what}", unit=" SKU", file=sys.stderr, leave=False) as bar:
        _batch_write(table, items, threads=8, progress=bar)
    return time.perf_counter() - started


def demand_model(workdir: Path) -> tuple[Built, str]:
    """The OJ demand model of the current code: from the build cache (`commerce-ai up`'s, entries verified
    by their checksums) when it holds this build, else trained now and cached. Copied into `workdir`, since
    the benchmark rewrites its serving table. Returns it and where it came from."""
    import model_build.pricing
    from infra.cli import BUILD_CACHE_DIR
    from model_build.cache import BuildCache, fingerprint

    cache, key = BuildCache(BUILD_CACHE_DIR), fingerprint("pricing")
    lookup = cache.lookup(key)
    if lookup.built:
        origin = f"cached ({BUILD_CACHE_DIR})"
        (found,) = lookup.built
    else:
        print(f"  setup: training the OJ demand model (model_build.pricing.build; build cache: {lookup.reason})")
        (found,) = cache.store(key, model_build.pricing.build(workdir / "pricing-build"))
        origin = "trained now, cached"
    target = workdir / "pricing-src" / found.name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(found.directory, target)
    return dataclasses.replace(found, directory=target), origin


def prepare(local: LocalStack, skus: int) -> Fixture:
    """The OJ demand model (cached or trained), its SKUs replicated to `skus`, published and active, and the
    catalog seeded."""
    setup: dict[str, float] = {}
    started = time.perf_counter()
    built, origin = demand_model(local.workdir)
    setup[f"OJ model ({origin})"] = time.perf_counter() - started

    started = time.perf_counter()
    base = ServingTable.model_validate_json((built.directory / SERVING_TABLE).read_bytes())
    table = _replicated(base, skus)
    (built.directory / SERVING_TABLE).write_text(table.model_dump_json())
    manifest = local.serve(built)
    setup["replicate, publish, validate, activate"] = time.perf_counter() - started
    print(
        f"  setup: {len(base.skus)} OJ SKUs -> {len(table.skus):,} replicas; pricing-demand {manifest.version} "
        f"published ({(built.directory / SERVING_TABLE).stat().st_size / 1e6:.1f} MB serving table), "
        "validated, active",
        flush=True,
    )
    states = seed_states(table)
    catalog_table = local.stack.physical_name("PricingCatalogTable")
    setup["seed catalog (BatchWriteItem)"] = _fill_catalog(catalog_table, states, "seeding the catalog")
    print(f"  setup: catalog seeded with {len(states):,} SKUs in {setup['seed catalog (BatchWriteItem)']:.1f} s")
    return Fixture(
        states=states,
        table=table,
        version=manifest.version,
        catalog_table=catalog_table,
        decisions_table=local.stack.physical_name("PricingTable"),
        setup=setup,
    )


def settled_states(states: list[SkuState], model: DemandModel, now: datetime) -> tuple[list[SkuState], int, int]:
    """The catalog after days of ticks (pure code, in memory): one tick a day, ending two days before
    `now`, until no price moves. Returns the states, the days it took and the SKUs still moving."""
    current = states
    moving = 0
    days = 0
    for back in range(SETTLE_DAYS + 1, 1, -1):
        at = now - timedelta(days=back)
        entries = ticks.catalog_entries(current, model, at, {s.sku: s.price for s in current})
        result = reprice(entries, at, int(at.timestamp() // 900))
        applied = {d.sku: d.applied for d in result.decisions if d.applied is not None}
        moving = len(applied)
        if not applied:
            break
        days += 1
        stamp = ticks.tick_stamp(at)
        current = [
            s.after_change(price, at, stamp) if (price := applied.get(s.sku)) is not None else s for s in current
        ]
    return current, days, moving


# ----------------------------------------------------------------------------------- instruments


# What the tick gave DemandModel.weekly_units: skus, prices, competitor indices, now, catalog prices.
DemandInputs = tuple[list[str], list[float], list[float | None], datetime, dict[str, float] | None]


@dataclass
class Probe:
    """Phase times of the run_ticks of a tick's chunks (accumulated seconds) and what the phases were given,
    for baselines."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    read: catalog_module.CatalogRead | None = None
    reads: list[catalog_module.CatalogRead] = field(default_factory=list)
    demand_inputs: DemandInputs | None = None
    records: list[DecisionRecord] = field(default_factory=list)
    record_time: datetime | None = None
    audit_items: int = 0  # DynamoDB items the records went into (kept ones: none)
    changes: list[tuple[SkuState, float]] = field(default_factory=list)
    applied_at: datetime | None = None
    pool_full: int = 0


class _PoolFull(logging.Handler):
    def __init__(self, probe: Probe) -> None:
        super().__init__(logging.WARNING)
        self.probe = probe

    def emit(self, record: logging.LogRecord) -> None:
        if "Connection pool is full" in record.getMessage():
            self.probe.pool_full += 1


@contextlib.contextmanager
def instrumented(probe: Probe) -> Iterator[None]:
    """Time run_tick's phases by wrapping what it calls (module attributes, restored on exit). The wrappers
    cost two clock reads per call; the per-SKU one (from_item) about 0.1 µs per SKU."""
    seconds = probe.seconds

    def timed(name: str, fn: Callable[..., Any], before: Callable[..., None] | None = None) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if before is not None:
                before(*args, **kwargs)
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - started

        return wrapper

    read = CatalogStore.read

    def kept_read(self: CatalogStore, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        probe.read = read(self, *args, **kwargs)
        probe.reads.append(probe.read)
        seconds["scan"] += time.perf_counter() - started
        return probe.read

    def demand_inputs(
        _model: Any, skus: Any, prices: Any, index: Any, now: datetime, catalog_prices: Any = None
    ) -> None:
        if probe.demand_inputs is None or len(skus) > len(probe.demand_inputs[0]):
            probe.demand_inputs = (list(skus), list(prices), list(index), now, catalog_prices)

    def audit(_log: Any, records: list[DecisionRecord], now: datetime | None = None) -> None:
        probe.records.extend(records)
        probe.record_time = now
        probe.audit_items += len(decisions_module.audit_items(records))

    def changes(_store: Any, applied: list[tuple[SkuState, float]], at: datetime, _tick: str, *_: Any) -> None:
        probe.changes.extend(applied)
        probe.applied_at = at

    apply_all = timed("apply", CatalogStore.apply_all, changes)

    def apply_outside_parse(*args: Any, **kwargs: Any) -> Any:
        parsed = seconds["parse"]  # entries the apply re-parses count as apply, not as the read's parsing
        try:
            return apply_all(*args, **kwargs)
        finally:
            seconds["parse"] = parsed

    patches: list[tuple[Any, str, Any]] = [
        (CatalogStore, "read", kept_read),
        (catalog_module, "from_item", timed("parse", catalog_module.from_item)),
        (ticks, "catalog_entries", timed("entries", ticks.catalog_entries)),
        (DemandModel, "weekly_units", timed("weekly_units", DemandModel.weekly_units, demand_inputs)),
        (DemandModel, "predict_units", timed("onnx", DemandModel.predict_units)),
        (ticks, "reprice", timed("reprice", ticks.reprice)),
        (DecisionLog, "write", timed("audit", DecisionLog.write, audit)),
        (CatalogStore, "apply_all", apply_outside_parse),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    pool_logger = logging.getLogger("urllib3.connectionpool")
    counter = _PoolFull(probe)
    propagate = pool_logger.propagate
    pool_logger.addHandler(counter)
    pool_logger.propagate = False  # counted, not printed: the tick runs with stdout silenced
    try:
        for owner, name, replacement in patches:
            setattr(owner, name, replacement)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
        pool_logger.removeHandler(counter)
        pool_logger.propagate = propagate


# ------------------------------------------------------------------------------------- baselines


def bare_inference(model: DemandModel, inputs: DemandInputs) -> Any:
    """Bare batched inference of exactly the rows the tick priced: the columns DemandModel.weekly_units
    builds (prepared here, not timed), then demand_features + one session.run on the served session."""
    columns = model.feature_columns(*inputs)
    session = model.session

    def run() -> Any:
        return session.run(None, {"features": demand_features(columns)})

    return run


class _MemoryCatalog:
    """The catalog as run_tick uses it, held in memory (already read and parsed): the compute-only tick."""

    table = "in-memory"

    def __init__(self, states: list[Any]) -> None:
        self._states = states

    def read(self, skus: list[str] | None = None, **_: Any) -> _MemoryCatalog:
        return self

    def states(self) -> Iterator[Any]:
        return iter(self._states)

    def apply_all(self, changes: list[tuple[SkuState, float]], at: datetime, tick: str, *_: Any) -> Applied:
        return Applied(applied={state.sku: True for state, _ in changes})


class _NullLog:
    table = "nowhere"

    def write(self, records: list[DecisionRecord], now: datetime) -> None:
        return None


def bare_scan(table: str, segments: int = SCAN_SEGMENTS) -> tuple[int, int, float]:
    """CatalogStore.scan_all's requests with bare boto3: the same parallel scan, items not parsed.
    Returns the items, the pages and the slowest page's seconds."""
    client = aws.client("dynamodb", bulk=True)

    def segment(number: int) -> tuple[int, int, float]:
        count, pages, slowest = 0, 0, 0.0
        request: dict[str, Any] = {"TableName": table, "Segment": number, "TotalSegments": segments}
        while True:
            started = time.perf_counter()
            response = client.scan(**request)
            slowest = max(slowest, time.perf_counter() - started)
            pages += 1
            count += len(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return count, pages, slowest
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    with concurrent.futures.ThreadPoolExecutor(segments) as pool:
        results = list(pool.map(segment, range(segments)))
    return sum(r[0] for r in results), sum(r[1] for r in results), max(r[2] for r in results)


def bare_reads(table: str, chunks: list[list[str]]) -> tuple[int, int, float]:
    """The tick's reads with bare boto3: the plan's key Scan (pages of the keys-only stage index), then each
    chunk's items with BatchGetItem, 100 keys a call, eventually consistent as the chunks read them, one
    chunk after another. Returns the SKUs read, the requests and the slowest Scan page's seconds."""
    client = aws.client("dynamodb", bulk=True)
    requests, slowest, found = 0, 0.0, 0
    request: dict[str, Any] = {"TableName": table, "IndexName": catalog_module.STAGE_INDEX}
    while True:
        started = time.perf_counter()
        response = client.scan(**request)
        slowest = max(slowest, time.perf_counter() - started)
        requests += 1
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    for chunk in chunks:
        ordered = sorted(chunk)
        for start in range(0, len(ordered), 100):
            keys = [{"sku": {"S": sku}} for sku in ordered[start : start + 100]]
            pending: dict[str, Any] = {table: {"Keys": keys, "ConsistentRead": False}}
            while pending:
                response = client.batch_get_item(RequestItems=pending)
                requests += 1
                found += len(response.get("Responses", {}).get(table, []))
                pending = response.get("UnprocessedKeys") or {}
    return found, requests, slowest


def bare_updates(table: str, skus: list[str]) -> tuple[float, int]:
    """The tick's per-SKU writes sent again with bare boto3: one conditional UpdateItem per changed SKU
    (its price set to itself, conditioned on the SKU existing), in the tick's thread count. Returns
    seconds and updates made."""
    client = aws.client("dynamodb", bulk=True)
    requests = [
        {
            "TableName": table,
            "Key": {"sku": {"S": sku}},
            "UpdateExpression": "SET #price = #price",
            "ConditionExpression": "attribute_exists(#sku)",
            "ExpressionAttributeNames": {"#price": "price", "#sku": "sku"},
        }
        for sku in skus
    ]
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(min(APPLY_THREADS, max(1, len(requests)))) as pool:
        list(pool.map(lambda request: client.update_item(**request), requests))
    return time.perf_counter() - started, len(requests)


# ------------------------------------------------------------------------------------------ tick


@dataclass
class TickFigures:
    label: str
    skus: int
    seconds: float
    summary: dict[str, Any]
    probe: Probe
    bare: list[float]
    compute: list[float]
    compute_probe: Probe
    floor_scan: float
    scan_pages: int
    slowest_page: float
    floor_audit: float | None
    floor_apply: float | None
    updates_written: int
    rss_before_mb: float | None
    peak_rss_mb: float | None  # during the tick
    calls: CallLog | None = None  # every AWS call the tick made (tests/benchmarks/_cost.py)


def _status_mb(name: str) -> float | None:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's peak RSS (VmHWM), so the next reading is the peak of what runs after."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _timed_call(fn: Callable[[], Any]) -> float:
    gc.collect()  # every timed run starts without the previous one's garbage
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


@dataclass
class TickRunner:
    """The tick's two functions as the local runner runs them, in this process: the planner's handler and
    the chunk worker's, fed by RepriceChunksQueue one chunk an invocation."""

    planner: Callable[..., Any]
    planner_context: LambdaContext
    worker: Callable[..., Any]
    worker_context: LambdaContext
    rule: str
    chunks: QueueSource
    status: TickLog
    chunk_seconds: float = CHUNK_SECONDS

    def run(
        self, stamp: str, unbilled: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
    ) -> tuple[dict[str, Any], list[list[str]]]:
        """Plan the tick, run every chunk; returns its counted summary and the chunks' SKUs. The benchmark's
        own reads of the tick's status (is it done yet?) run in `unbilled`: no function makes them."""
        plan = self.planner({**scheduled_event(self.rule), "time": stamp}, self.planner_context)
        chunks: list[list[str]] = []

        def invoke(_function: str, event: dict[str, Any]) -> Any:
            chunks.extend(json.loads(r["body"])["skus"] for r in event["Records"])
            return self.worker(event, self.worker_context)

        # Until the tick's status says every chunk is counted, not until one poll comes back empty: on a loaded
        # machine the emulator's short poll can answer nothing while chunks are still queued.
        deadline = time.monotonic() + max(CHUNKS_DEADLINE_S, self.chunk_seconds * int(plan["chunks"]))
        with unbilled():
            status = self.status.get(stamp)
        started = shown = time.monotonic()
        while status.state == "running" and time.monotonic() < deadline:
            self.chunks.poll_once(invoke, wait_seconds=1)
            with unbilled():
                status = self.status.get(stamp)
            if time.monotonic() - shown >= PROGRESS_S:  # stdout is silenced during the tick: stderr
                shown = time.monotonic()
                print(
                    f"    ... {status.chunks_done or 0} of {plan['chunks']} chunks counted after "
                    f"{shown - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        if status.summary is None or status.state != "done":
            raise RuntimeError(f"the tick's chunks did not all finish: {status!r} (plan {plan!r})"[:2000])
        return {**status.summary, "chunks": plan["chunks"]}, chunks


def measure_tick(runner: TickRunner, tick_time: datetime, label: str, fixture: Fixture) -> TickFigures:
    stamp = ticks.tick_stamp(tick_time)
    print(f"\n  {label}: tick {stamp}", flush=True)

    print("    the tick: RepricingFunction plans it, RepriceChunkFunction runs each chunk, in process...", flush=True)
    probe = Probe()
    gc.collect()
    rss_before_mb = _status_mb("VmRSS")
    peak_known = _reset_peak_rss()
    with instrumented(probe), _quiet_stdout(), counting_calls() as calls:
        started = time.perf_counter()
        summary, chunks = runner.run(stamp, calls.paused)
        seconds = time.perf_counter() - started
    resolve_updates(calls, aws.client("dynamodb"))  # UpdateItems billed by their items' sizes, read uncounted
    resolve_reads(calls, aws.client("dynamodb"))  # a projected or filtered Query or Scan: by the items it read
    peak_rss_mb = _status_mb("VmHWM") if peak_known else None
    if summary.get("skus", 0) <= 0:
        raise RuntimeError(f"the tick did not price the catalog: {summary!r}"[:2000])
    print(f"    done in {seconds:.1f} s: {json.dumps({k: summary[k] for k in (*_OUTCOMES, 'chunks')})}", flush=True)

    print(
        "    bare key Scan + BatchGetItem of each chunk's SKUs (the emulator floor of the tick's reads)...", flush=True
    )
    scanned: list[tuple[int, int, float]] = []
    floor_scan = _timed_call(lambda: scanned.append(bare_reads(fixture.catalog_table, chunks)))
    (_, scan_pages, slowest_page) = scanned[0]
    floor_audit = None
    if probe.records and probe.record_time is not None:
        items = decisions_module.audit_items(probe.records)
        print(f"    bare BatchWriteItem of the same {len(items):,} audit items (idempotent overwrite)...", flush=True)
        floor_audit = _timed_call(
            lambda: _batch_write(fixture.decisions_table, items, AUDIT_THREADS, None, AUDIT_BATCH)
        )
    floor_apply, updates_written = None, 0
    if probe.changes:
        print("    bare conditional UpdateItem of the SKUs the tick changed (price set to itself)...", flush=True)
        floor_apply, updates_written = bare_updates(fixture.catalog_table, [s.sku for s, _ in probe.changes])

    print(f"    compute-only tick x{COMPUTE_REPS} interleaved with bare batched ORT x{BARE_REPS}...", flush=True)
    loaded = service.demand_model()
    if not probe.reads:
        raise RuntimeError("the tick did not read the catalog")
    memory_states = [state for read in probe.reads for state in read.states()]
    now = probe.demand_inputs[3] if probe.demand_inputs is not None else datetime.now(UTC)  # the tick's
    compute_probe = Probe()
    bare: list[float] = []
    compute: list[float] = []
    bare_run: Callable[[], Any] | None = None
    for rep in range(max(BARE_REPS, COMPUTE_REPS)):
        if rep < COMPUTE_REPS:
            run_probe = Probe() if rep else compute_probe
            with instrumented(run_probe):
                compute.append(
                    _timed_call(
                        lambda: ticks.run_tick(
                            _MemoryCatalog(memory_states),  # type: ignore[arg-type]
                            _NullLog(),  # type: ignore[arg-type]
                            loaded,
                            now,
                            stamp,
                        )
                    )
                )
            run_probe.seconds["total"] = compute[-1]
        if bare_run is None:  # the rows the whole catalog's tick priced, in one batch (the first compute run's)
            if compute_probe.demand_inputs is None:
                raise RuntimeError("the compute-only tick made no demand inference")
            bare_run = bare_inference(loaded.model, compute_probe.demand_inputs)
            bare_run()  # warm
        if rep < BARE_REPS:
            bare.append(_timed_call(bare_run))
    return TickFigures(
        label=label,
        skus=int(summary["skus"]),
        seconds=seconds,
        summary=summary,
        probe=probe,
        bare=bare,
        compute=compute,
        compute_probe=compute_probe,
        floor_scan=floor_scan,
        scan_pages=scan_pages,
        slowest_page=slowest_page,
        floor_audit=floor_audit,
        floor_apply=floor_apply,
        updates_written=updates_written,
        rss_before_mb=rss_before_mb,
        peak_rss_mb=peak_rss_mb,
        calls=calls,
    )


_OUTCOMES = ("skus", "applied", "kept", "blocked", "failed", "superseded")


def _rate(skus: int, seconds: float) -> str:
    return f"{skus / seconds:,.0f} SKUs/s" if seconds > 0 else "-"


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole > 0 else "-"


def print_tick(figures: TickFigures, report: Report) -> None:
    s = figures.probe.seconds
    total = figures.seconds
    bare = median(figures.bare)
    compute = median(figures.compute)
    entries_py = s["entries"] - s["weekly_units"]
    features = s["weekly_units"] - s["onnx"]
    accounted = s["scan"] + s["parse"] + s["entries"] + s["reprice"] + s["audit"] + s["apply"]
    changes = len(figures.probe.changes)
    floor_apply = f"bare {fmt_seconds(figures.floor_apply)}" if figures.floor_apply is not None else "-"
    rows = [
        [
            f"read: each chunk's BatchGetItem ({len(figures.probe.reads):,} chunks; the plan's key Scan is in 'other')",
            fmt_seconds(s["scan"]),
            _share(s["scan"], total),
            f"bare key Scan + BatchGetItems {fmt_seconds(figures.floor_scan)} ({figures.scan_pages} requests, "
            f"slowest Scan page {fmt_seconds(figures.slowest_page)})",
        ],
        ["parsing entries into SkuState", fmt_seconds(s["parse"]), _share(s["parse"], total), ""],
        ["catalog entries (per-SKU Python)", fmt_seconds(entries_py), _share(entries_py, total), ""],
        ["features (columns + demand_features)", fmt_seconds(features), _share(features, total), ""],
        ["ONNX session.run (one batch)", fmt_seconds(s["onnx"]), _share(s["onnx"], total), ""],
        ["guard rails (reprice)", fmt_seconds(s["reprice"]), _share(s["reprice"], total), ""],
        [
            f"audit: BatchWriteItem, {len(figures.probe.records):,} records, {figures.probe.audit_items:,} items",
            fmt_seconds(s["audit"]),
            _share(s["audit"], total),
            f"bare {fmt_seconds(figures.floor_audit)}" if figures.floor_audit is not None else "-",
        ],
        [
            f"apply: {changes:,} changes, conditional UpdateItem of {figures.updates_written:,} SKUs",
            fmt_seconds(s["apply"]),
            _share(s["apply"], total),
            floor_apply,
        ],
        [
            "other (plan: key Scan, chunk messages; queue polls, markers, S3 log, events, handlers)",
            fmt_seconds(total - accounted),
            _share(total - accounted, total),
            "",
        ],
        ["whole invocation", fmt_seconds(total), "100%", ""],
    ]
    print(
        f"\n  {figures.label}: {figures.skus:,} SKUs in {fmt_seconds(total)} = {_rate(figures.skus, total)}; "
        + ", ".join(f"{k} {figures.summary[k]:,}" for k in _OUTCOMES[1:])
    )
    print(table(["phase", "time", "share", "emulator floor (bare boto3, same requests)"], rows, left=(0, 3)))
    floor = figures.floor_scan + (figures.floor_audit or 0.0) + (figures.floor_apply or 0.0)
    c = figures.compute_probe.seconds
    compute_ratio = ratio(compute, bare)
    full_ratio = ratio(total, bare)
    print(
        f"    emulator floor (the bare figures above): {fmt_seconds(floor)}, {_share(floor, total)} of the tick; "
        f"the tick's compute without I/O (below): {fmt_seconds(compute)}; floor + compute = "
        f"{_share(floor + compute, total)} of the tick (each side is one noisy sample of a shared machine)."
    )
    if figures.probe.pool_full:
        print(
            f"    urllib3 'Connection pool is full' warnings during the tick: {figures.probe.pool_full:,} "
            "(write threads > the boto3 client's max_pool_connections)"
        )
    if figures.rss_before_mb is not None and figures.peak_rss_mb is not None:
        print(
            f"    memory: this process's RSS went from {figures.rss_before_mb:,.0f} MB before the tick to a peak of "
            f"{figures.peak_rss_mb:,.0f} MB during it (+{figures.peak_rss_mb - figures.rss_before_mb:,.0f} MB for "
            "the tick's own data; the 'before' includes the benchmark's copy of the catalog; "
            "RepriceChunkFunction has 1024 MB, for a chunk at a time on AWS)"
        )
    rows = [
        [
            "full tick (plan + every chunk, handlers, against the emulator)",
            fmt_seconds(total),
            _rate(figures.skus, total),
            fmt_ratio(full_ratio),
        ],
        [
            f"compute-only tick (run_tick, in-memory catalog; median of {len(figures.compute)}, breakdown of the 1st)",
            fmt_seconds(compute),
            _rate(figures.skus, compute),
            fmt_ratio(compute_ratio),
        ],
        [
            "    of which features + ONNX (DemandModel.weekly_units)",
            fmt_seconds(c["weekly_units"]),
            "",
            fmt_ratio(ratio(c["weekly_units"], bare)),
        ],
        ["    of which catalog entries (per-SKU Python)", fmt_seconds(c["entries"] - c["weekly_units"]), "", ""],
        ["    of which guard rails (reprice)", fmt_seconds(c["reprice"]), "", ""],
        [
            "    of which decision records and the rest of run_tick",
            fmt_seconds(c["total"] - c["entries"] - c["reprice"]),
            "",
            "",
        ],
        [
            f"bare batched ORT, same rows (median of {len(figures.bare)})",
            fmt_seconds(bare),
            _rate(figures.skus, bare),
            "1.00x",
        ],
    ]
    print(table(["", "time", "throughput", "ratio"], rows))
    note = (
        f"applied {figures.summary['applied']:,}; compute-only {fmt_ratio(compute_ratio)}; "
        f"emulator floor {fmt_seconds(floor)} ({_share(floor, total)})"
    )
    report.add(
        "pricing",
        f"{figures.label} ({figures.skus:,} SKUs) vs bare ORT",
        f"{_rate(figures.skus, total)} ({fmt_seconds(total)})",
        f"{_rate(figures.skus, bare)} ({fmt_seconds(bare)})",
        full_ratio,
        note,
    )
    report.add(
        "pricing",
        f"{figures.label}, compute only vs bare ORT",
        f"{_rate(figures.skus, compute)} ({fmt_seconds(compute)})",
        f"{_rate(figures.skus, bare)} ({fmt_seconds(bare)})",
        compute_ratio,
        "run_tick over the same states in memory",
    )


def print_cost(figures: TickFigures, report: Report) -> None:
    """What DynamoDB (and the tick's other services) would bill for the calls the tick actually made."""
    if figures.calls is None:
        return
    billed = bill(figures.calls, lambda_invocations=1 + int(figures.summary.get("chunks", 0)))
    requests = figures.calls.dynamodb_requests()
    changed = int(figures.summary.get("applied", 0))
    per_change = billed["dynamodb_wru"] / changed if changed else None
    others = {f"{service} {op}": n for (service, op), n in sorted(figures.calls.calls.items()) if service != "dynamodb"}
    print(
        f"\n  {figures.label}: AWS cost model of the calls the tick made (tests/benchmarks/_cost.py; reads billed by "
        "4 KB of the items read, whole, writes by 1 KB of the items written):\n"
        f"    DynamoDB {billed['dynamodb_wru']:,.0f} write units, {billed['dynamodb_rru']:,.0f} read units; "
        f"{sum(requests.values()):,} requests ({', '.join(f'{op} {n:,}' for op, n in sorted(requests.items()))}); "
        f"{changed:,} SKUs changed"
        + (f" = {per_change:.2f} write units per changed SKU" if per_change is not None else "")
        + (f"; other calls: {', '.join(f'{k} {n:,}' for k, n in others.items())}" if others else "")
        + f"; ${billed['dollars']:.4f} a tick (duration not modelled)"
    )
    catalog_updates = len(figures.probe.changes)
    per_sku_items = catalog_updates + figures.probe.audit_items
    chunks = int(figures.summary.get("chunks", 0))
    # Per tick: its status (recorded running, then with its chunks). Per chunk: one conditional update of the
    # status (its number into the set of chunks done, with its counts), and its events marker when it
    # published any.
    per_tick_items = 2
    per_chunk_items = chunks + requests.get("PutItem", 0)
    target = 1.2 * (changed + per_tick_items + per_chunk_items)
    print(
        f"    per-SKU items written: {per_sku_items:,} ({catalog_updates:,} catalog updates, "
        f"{figures.probe.audit_items:,} audit items); per-tick items: {per_tick_items}; per-chunk items: "
        f"{per_chunk_items:,} ({chunks:,} chunks: one conditional update of the tick's status each; an "
        f"events marker each that published); write units {billed['dynamodb_wru']:,.0f} against the target "
        f"1.2 x (changed + per-tick + per-chunk items) = {target:,.0f}: "
        + ("met" if billed["dynamodb_wru"] <= target else "NOT met")
        + (
            f"; other TransactWriteItems: {requests['TransactWriteItems']:,}"
            if "TransactWriteItems" in requests
            else ""
        )
    )
    report.add(
        "pricing",
        f"{figures.label} ({figures.skus:,} SKUs): DynamoDB write units vs SKUs changed",
        f"{billed['dynamodb_wru']:,.0f} WRU",
        f"{changed:,} changed",
        per_change,
        f"{billed['dynamodb_rru']:,.0f} RRU; {sum(requests.values()):,} DynamoDB requests; "
        f"${billed['dollars']:.4f} a tick",
    )


def tick_benchmark(local: LocalStack, report: Report, fixture: Fixture, chunk_seconds: float = CHUNK_SECONDS) -> None:
    slowest: list[float] = []
    try:
        _ticks(local, report, fixture, slowest, chunk_seconds)
    finally:
        if slowest and max(slowest) > aws.BULK_READ_TIMEOUT / 2:
            report.problem(
                f"Against the emulator, one page of the tick's {SCAN_SEGMENTS}-segment parallel Scan over "
                f"{len(fixture.states):,} SKUs took up to {fmt_seconds(max(slowest))}, over half the bulk client's "
                f"read_timeout of {aws.BULK_READ_TIMEOUT} s (commerce_ai.aws): a bigger catalog would time out"
            )


def _ticks(local: LocalStack, report: Report, fixture: Fixture, slowest: list[float], chunk_seconds: float) -> None:
    spec, chunk_spec = local.worker(TICK_FUNCTION), local.worker(CHUNK_FUNCTION)
    environment = {
        **chunk_spec.environment,
        **spec.environment,
        "MODEL_CACHE_DIR": str(local.workdir / "model-cache"),
    }
    with patched_environ(environment):
        for path in reversed([*spec.extra_paths, *chunk_spec.extra_paths]):
            if path not in sys.path:
                sys.path.insert(0, path)
        fn, chunk_fn = local.function(TICK_FUNCTION), local.function(CHUNK_FUNCTION)
        queue = local.stack.physical_name("RepriceChunksQueue")
        chunks_url = aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
        runner = TickRunner(
            planner=load_handler(fn.code_uri, spec.module, spec.attribute),
            planner_context=LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout),
            worker=load_handler(chunk_fn.code_uri, chunk_spec.module, chunk_spec.attribute),
            worker_context=LambdaContext(
                chunk_spec.function, memory_limit_in_mb=chunk_spec.memory, timeout_seconds=chunk_spec.timeout
            ),
            rule=rule_arn(local.stack, fn),
            chunks=QueueSource(
                CHUNK_FUNCTION, chunks_url, local.stack.arn("RepriceChunksQueue"), batch_size=1, report_failures=True
            ),
            status=TickLog(local.stack.physical_name("PricingTable")),
            chunk_seconds=chunk_seconds,
        )

        service.demand_loader.cache_clear()
        with _quiet_stdout():
            load = _timed_call(service.demand_model)  # a cold container's model load, outside the tick
            loaded = service.demand_model()
            # Warm the rest of the path (imports, ORT, first requests) on one SKU, writing nothing.
            warm_up = datetime.now(UTC)
            service.reprice_now(warm_up, ticks.tick_stamp(warm_up), skus=[fixture.states[0].sku], dry_run=True)
        print(
            f"\n  Served model: {MODEL_NAME} {loaded.version}; first load (download, verify, open ONNX, parse the "
            f"{len(fixture.table.skus):,}-SKU serving table) {fmt_seconds(load)}, outside the tick figures "
            "(a warm container has it; a cold one pays it once)."
        )
        if loaded.version != fixture.version:
            raise RuntimeError(f"the served model is {loaded.version}, expected {fixture.version}")

        now = datetime.now(UTC)
        first = now.replace(minute=now.minute - now.minute % ticks.TICK_MINUTES, second=0, microsecond=0)
        step = timedelta(minutes=ticks.TICK_MINUTES)
        fresh = measure_tick(runner, first, "tick 1, fresh catalog", fixture)
        slowest.append(fresh.slowest_page)
        print_tick(fresh, report)
        print_cost(fresh, report)
        del fresh
        following = measure_tick(runner, first + step, "tick 2, 15 min later", fixture)
        slowest.append(following.slowest_page)
        print_tick(following, report)
        print_cost(following, report)
        del following

        started = time.perf_counter()
        settled, days, moving = settled_states(fixture.states, loaded.model, datetime.now(UTC))
        took = time.perf_counter() - started
        print(
            f"\n  setup: settled the catalog in memory ({days} daily ticks, ending 2 days ago; {moving:,} SKUs "
            f"would still move) in {took:.1f} s; writing it...",
            flush=True,
        )
        wrote = _fill_catalog(fixture.catalog_table, settled, "writing the settled catalog")
        print(f"  setup: settled catalog written in {wrote:.1f} s", flush=True)
        steady = measure_tick(runner, first + 2 * step, "tick 3, settled catalog", fixture)
        slowest.append(steady.slowest_page)
        print_tick(steady, report)
        print_cost(steady, report)


# ----------------------------------------------------------------------------------------- quote


def _check(response: Any) -> None:
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        raise RuntimeError(f"POST /pricing/quote did not succeed: {response!r}"[:2000])


def quote_benchmark(local: LocalStack, report: Report, fixture: Fixture, calls: int) -> None:
    spec = local.worker(API_FUNCTION)
    environment = {
        **spec.environment,
        "HEARTBEAT_SECONDS": WARM_HEARTBEAT_SECONDS,
        "MODEL_CACHE_DIR": str(local.workdir / "model-cache"),
    }
    with patched_environ(environment):
        for path in reversed(spec.extra_paths):
            if path not in sys.path:
                sys.path.insert(0, path)
        app = load_handler(local.function(API_FUNCTION).code_uri, spec.module, spec.attribute)
        context = LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout)
        catalog = service.catalog()
        loaded = service.demand_model()
        model = loaded.model
        rng = np.random.default_rng(11)
        picked = [fixture.states[int(i)].sku for i in rng.choice(len(fixture.states), QUOTE_SKUS, replace=False)]
        members = {sku: model.table.market_members(sku) for sku in picked}
        with_market = {sku: catalog.get_with_market(sku, members[sku]) for sku in picked}
        states = {sku: state for sku, (state, _) in with_market.items()}
        market_prices = {sku: found for sku, (_, found) in with_market.items()}
        prices = {sku: [round(state.price * f, 2) for f in QUOTE_CANDIDATES] for sku, state in states.items()}
        events = {
            sku: local.api_event("POST", "/pricing/quote", json.dumps({"sku": sku, "prices": prices[sku]}).encode())
            for sku in picked
        }
        warmup = 20
        order = [picked[i % len(picked)] for i in range(calls + warmup)]
        pending = iter([copy.deepcopy(events[sku]) for sku in order])
        now = datetime.now(UTC)
        # The rows a quote needs: the current price (its catalog entry) and each candidate, one batch.
        bare_rows = {
            sku: bare_inference(
                model,
                (
                    [sku] * (1 + len(prices[sku])),
                    [state.price, *prices[sku]],
                    [ticks.fresh_competitor_index(state, now)] * (1 + len(prices[sku])),
                    now,
                    market_prices[sku],
                ),
            )
            for sku, state in states.items()
        }

        def handler_call(sku: str) -> None:
            _check(app(next(pending), context))

        def domain(sku: str) -> None:
            state, found = catalog.get_with_market(sku, members[sku])
            quote(state, model, prices[sku], datetime.now(UTC), catalog_prices=found)

        def in_memory(sku: str) -> None:
            quote(states[sku], model, prices[sku], datetime.now(UTC), catalog_prices=market_prices[sku])

        def bare(sku: str) -> None:
            bare_rows[sku]()

        # The emulator's floor for the read: the same SKU items in one bare BatchGetItem, nothing parsed.
        item_keys = {sku: sorted({sku, *members[sku]}) for sku in picked}

        def bare_read(sku: str) -> None:
            keys = [{"sku": {"S": key}} for key in item_keys[sku]]
            catalog.ddb.batch_get_item(RequestItems={catalog.table: {"Keys": keys, "ConsistentRead": True}})

        sides: list[tuple[str, Callable[[str], None]]] = [
            ("handler  POST /pricing/quote (Chalice, proxy event)", handler_call),
            ("direct   CatalogStore.get_with_market + quotes.quote", domain),
            ("direct   quotes.quote on an in-memory SkuState", in_memory),
            (f"bare     demand_features + session.run, {1 + len(QUOTE_CANDIDATES)} rows", bare),
            ("bare     BatchGetItem of the same SKU items (the emulator's floor)", bare_read),
        ]
        samples: dict[str, list[float]] = {name: [] for name, _ in sides}
        clock = time.perf_counter
        with _quiet_stdout():
            for i, sku in enumerate(order):
                rotation = sides[i % len(sides) :] + sides[: i % len(sides)]  # every side goes first in turn
                for name, fn in rotation:
                    started = clock()
                    fn(sku)
                    elapsed = clock() - started
                    if i >= warmup:
                        samples[name].append(elapsed)

    names = [name for name, _ in sides]
    handler_name, _domain_name, memory_name, bare_name, read_name = names
    base50, base99 = percentile(samples[memory_name], 50), percentile(samples[memory_name], 99)
    ort50, ort99 = percentile(samples[bare_name], 50), percentile(samples[bare_name], 99)
    rows = []
    for name in names:
        p50, p99 = percentile(samples[name], 50), percentile(samples[name], 99)
        rows.append(
            [
                name,
                fmt_seconds(p50),
                fmt_seconds(p99),
                fmt_ratio(ratio(p50, base50)),
                fmt_ratio(ratio(p99, base99)),
                fmt_ratio(ratio(p50, ort50)),
            ]
        )
    print(
        f"\n  POST /pricing/quote, {len(QUOTE_CANDIDATES)} candidate prices, {calls} calls per side over "
        f"{len(picked)} SKUs of the {len(fixture.states):,}-SKU catalog, interleaved "
        f"(HEARTBEAT_SECONDS={WARM_HEARTBEAT_SECONDS} here, as in the warm section)"
    )
    print(table(["", "p50", "p99", "p50 vs quote()", "p99 vs quote()", "p50 vs bare ORT"], rows))
    h50, h99 = percentile(samples[handler_name], 50), percentile(samples[handler_name], 99)
    report.add(
        "pricing",
        "POST /pricing/quote handler vs quote() in memory (p50)",
        fmt_seconds(h50),
        fmt_seconds(base50),
        ratio(h50, base50),
        f"p99 {fmt_seconds(h99)} vs {fmt_seconds(base99)}: {fmt_ratio(ratio(h99, base99))}",
    )
    report.add(
        "pricing",
        "POST /pricing/quote handler vs bare ORT, same rows (p50)",
        fmt_seconds(h50),
        fmt_seconds(ort50),
        ratio(h50, ort50),
        f"p99 ratio {fmt_ratio(ratio(h99, ort99))}; quote() alone {fmt_ratio(ratio(base50, ort50))} of bare ORT",
    )
    floor50 = percentile(samples[read_name], 50) + ort50
    report.add(
        "pricing",
        "POST /pricing/quote handler vs bare read + bare ORT (p50)",
        fmt_seconds(h50),
        fmt_seconds(floor50),
        ratio(h50, floor50),
        f"bare BatchGetItem of the SKU's and its market's items, {np.mean([len(k) for k in item_keys.values()]):.1f} "
        "on average",
    )


# ------------------------------------------------------------------------------------------- run


def run(
    local: LocalStack,
    report: Report,
    skus: int = 100_000,
    quote_calls: int = 1000,
    chunk_seconds: float = CHUNK_SECONDS,
) -> None:
    heading(f"4. PRICING: REPRICING TICK OVER {skus:,} SKUs AND QUOTE LATENCY (in process, against the emulator)")
    print(
        f"  boto3 read_timeout as shipped (commerce_ai.aws): {aws.INTERACTIVE_READ_TIMEOUT} s for interactive calls, "
        f"{aws.BULK_READ_TIMEOUT} s for the tick's scan and batch writes; pool {aws.MAX_POOL_CONNECTIONS} connections."
    )
    try:
        with patched_environ(local.env):
            fixture = prepare(local, skus)
    except Exception as exc:
        report.error("pricing: setup", exc)
        return
    for name, bench in (
        ("pricing: repricing tick", lambda: tick_benchmark(local, report, fixture, chunk_seconds)),
        ("pricing: quote latency", lambda: quote_benchmark(local, report, fixture, quote_calls)),
    ):
        try:
            bench()
        except Exception as exc:
            report.error(name, exc)
    print(
        "\n  setup (not measured): " + ", ".join(f"{what} {seconds:.1f} s" for what, seconds in fixture.setup.items()),
        flush=True,
    )

"""Warm per-invocation overhead, in process, against the emulator.

1. Registry API handler `app(event, context)` (Chalice routing, middleware, telemetry, EMF metrics,
   JSON response) vs the domain function it wraps, called directly the same number of times:
   GET /models -> service.list_models, GET /models/{name} -> service.describe_model.
2. Loaded-model hot path: ModelLoader.get() + session.run on one row vs session.run on the same session.

Calls alternate measured/baseline one by one, so drift on the shared machine hits both sides alike.
"""

from __future__ import annotations

import contextlib
import copy
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.registry import service
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, percentile, ratio, table
from tests.benchmarks._stack import FEATURE_WIDTH, WARM_HEARTBEAT_SECONDS, LocalStack, patched_environ


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send fd 1 to /dev/null: Powertools prints an EMF blob per invocation and its logger holds the
    original sys.stdout (on Lambda all of it goes to CloudWatch through the runtime's pipe)."""
    sys.stdout.flush()
    saved = os.dup(1)
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(sink, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(sink)


def _alternate(calls: int, measured: Callable[[], Any], baseline: Callable[[], Any]) -> tuple[list[float], list[float]]:
    clock = time.perf_counter
    m: list[float] = []
    b: list[float] = []
    for i in range(calls):
        pair = (measured, baseline) if i % 2 == 0 else (baseline, measured)
        for fn in pair:
            started = clock()
            fn()
            elapsed = clock() - started
            (m if fn is measured else b).append(elapsed)
    return m, b


def _row(label: str, values: list[float]) -> list[str]:
    return [label, fmt_seconds(percentile(values, 50)), fmt_seconds(percentile(values, 99))]


def _check(response: Any, what: str) -> dict[str, Any]:
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        raise RuntimeError(f"{what} did not succeed: {response!r}"[:2000])
    return response


def _handler_vs_direct(
    app: Any, context: LambdaContext, event: dict[str, Any], route: str, direct: Callable[[], Any], calls: int
) -> tuple[list[float], list[float]]:
    warmup = 10  # first heartbeat, connection pool, lazy imports
    pending = iter([copy.deepcopy(event) for _ in range(calls + warmup)])  # a fresh event per call

    def handler_call() -> Any:
        return _check(app(next(pending), context), route)

    with _quiet_stdout():
        for _ in range(warmup):
            handler_call()
            direct()
        return _alternate(calls, handler_call, direct)


def registry_handler(local: LocalStack, report: Report, calls: int) -> None:
    spec = local.worker()
    environment = {**spec.environment, "HEARTBEAT_SECONDS": WARM_HEARTBEAT_SECONDS}
    with patched_environ(environment):
        for path in reversed(spec.extra_paths):
            if path not in sys.path:
                sys.path.insert(0, path)
        app = load_handler(local.function().code_uri, spec.module, spec.attribute)
        registry, store = local.registry(), local.store()
        cases = [
            ("GET /models", "service.list_models", "/models", lambda: service.list_models(registry)),
            (
                "GET /models/{name}",
                "service.describe_model",
                f"/models/{local.model}",
                lambda: service.describe_model(registry, store, local.model),
            ),
        ]
        print(
            f"\n  Registry API handler vs domain function, {calls} calls each, alternating "
            f"(HEARTBEAT_SECONDS={WARM_HEARTBEAT_SECONDS} here; the template's 60 means at most one "
            "heartbeat DynamoDB write a minute per container, amortised away in any busy minute)"
        )
        rows: list[list[str]] = []
        for route, direct_name, path, direct in cases:
            context = LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout)
            m, b = _handler_vs_direct(app, context, local.api_event("GET", path), route, direct, calls)
            p50_ratio = ratio(percentile(m, 50), percentile(b, 50))
            p99_ratio = ratio(percentile(m, 99), percentile(b, 99))
            overhead = percentile(m, 50) - percentile(b, 50)
            rows += [
                [*_row(f"handler  {route}", m), fmt_ratio(p50_ratio), fmt_ratio(p99_ratio)],
                [*_row(f"direct   {direct_name}", b), "1.00x", "1.00x"],
            ]
            report.add(
                "warm",
                f"handler {route} vs {direct_name} (p50)",
                fmt_seconds(percentile(m, 50)),
                fmt_seconds(percentile(b, 50)),
                p50_ratio,
                f"p99 ratio {fmt_ratio(p99_ratio)}; +{fmt_seconds(overhead)}/call at p50",
            )
        print(table(["", "p50", "p99", "p50 ratio", "p99 ratio"], rows))


def model_hot_path(local: LocalStack, report: Report, calls: int) -> None:
    with patched_environ(local.env):
        loader: ModelLoader[Any] = ModelLoader(local.model)
        with _quiet_stdout():  # the loader logs "model loaded"
            session = loader.get().model  # first load (download + open) is excluded from timing
        feed = {"features": np.asarray([[10.0, 3.0, 0.25]], dtype=np.float32)}
        assert feed["features"].shape[1] == FEATURE_WIDTH
        refresh = loader.refresh_seconds

        def via_loader() -> Any:
            return loader.get().model.run(None, feed)

        def bare() -> Any:
            return session.run(None, feed)

        with _quiet_stdout():
            for _ in range(200):
                via_loader()
                bare()
            m, b = _alternate(calls, via_loader, bare)
    p50_ratio = ratio(percentile(m, 50), percentile(b, 50))
    p99_ratio = ratio(percentile(m, 99), percentile(b, 99))
    print(
        f"\n  Loaded-model hot path, one row, {calls} calls each, alternating "
        f"(the loader re-reads the active pointer at most every {refresh:g} s; the run is shorter than that)"
    )
    print(
        table(
            ["", "p50", "p99", "p50 ratio", "p99 ratio"],
            [
                [*_row("ModelLoader.get() + session.run", m), fmt_ratio(p50_ratio), fmt_ratio(p99_ratio)],
                [*_row("bare session.run (same session)", b), "1.00x", "1.00x"],
            ],
        )
    )
    report.add(
        "warm",
        "ModelLoader.get()+run vs bare run (p50)",
        fmt_seconds(percentile(m, 50)),
        fmt_seconds(percentile(b, 50)),
        p50_ratio,
        f"p99 ratio {fmt_ratio(p99_ratio)}",
    )


def run(local: LocalStack, report: Report, calls: int = 500, hot_calls: int = 20000) -> None:
    heading("3. WARM PER-INVOCATION OVERHEAD (in process, against the emulator)")
    for name, bench, count in (
        ("warm: registry handler", registry_handler, calls),
        ("warm: model hot path", model_hot_path, hot_calls),
    ):
        try:
            bench(local, report, count)
        except Exception as exc:
            report.error(name, exc)

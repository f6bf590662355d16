"""`make bench`: deployment sizes, cold starts, warm overhead, and each capability and the start-up, each as a
ratio to a same-run baseline.

    .venv/bin/python -m tests.benchmarks
        [--only sizes,gateway,cold,warm,risk,stream,recommendations,support,propensity,forecasting,pricing,visual,
                forecast-models,startup]
        [--cold-runs 7] [--gateway-calls 2000] [--warm-calls 500] [--hot-calls 20000] [--risk-calls 1000]
        [--risk-bulk 1000] [--stream-events 100000] [--pricing-skus 10000] [--pricing-chunk-seconds 30]
        [--quote-calls 1000] [--no-fresh-clone]
        [--forecast-skus 10000] [--forecast-calls 500] [--forecast-workers 2,4] [--propensity-calls 500]
        [--propensity-events 50]
        [--visual-calls 500] [--support-calls 300] [--forecast-model-series 913]

`--only pricing --pricing-skus 5000` is a quick look at the repricing section (the full 100k-SKU run takes
several minutes, most of it the emulator's).

No timing thresholds: the run exits 0 unless a benchmark could not run. Layer builds are cached under
build/layers/, the emulator's log and scratch files go to build/bench/.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from types import FrameType

from tests.benchmarks import (
    cold_start,
    forecast_models,
    forecasting,
    gateway,
    pricing,
    propensity,
    recommendations,
    risk,
    sizes,
    startup,
    stream,
    support,
    visual,
    warm_overhead,
)
from tests.benchmarks._report import Report
from tests.benchmarks._stack import BENCH_DIR, local_stack

SECTIONS = (
    "sizes",
    "gateway",
    "cold",
    "warm",
    "risk",
    "stream",
    "recommendations",
    "support",
    "propensity",
    "forecasting",
    "pricing",
    "visual",
    "forecast-models",
    "startup",
)

# The sections that run against one shared local stack (the emulator, the template bootstrapped).
IN_EMULATOR = frozenset(
    {"cold", "warm", "risk", "stream", "recommendations", "support", "propensity", "forecasting", "pricing"}
)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into SystemExit so every `finally` runs and the moto server is stopped.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})",
    )
    parser.add_argument("--cold-runs", type=int, default=7, help="new processes per cold-start figure")
    parser.add_argument("--gateway-calls", type=int, default=2000, help="kept-alive calls per side for the gateway")
    parser.add_argument("--warm-calls", type=int, default=500, help="calls per warm handler figure")
    parser.add_argument("--hot-calls", type=int, default=20000, help="calls for the model hot-path figure")
    parser.add_argument(
        "--pricing-skus",
        type=int,
        # 100,000 is the size, but with one item per SKU moto's Scan pages over 100,000 items outlast
        # the bulk client's read timeout (README, pricing bench), so the default run stays at 10,000.
        default=10_000,
        help="SKUs in the synthetic catalog of the repricing tick",
    )
    parser.add_argument(
        "--pricing-chunk-seconds",
        type=float,
        default=pricing.CHUNK_SECONDS,
        help="a tick's chunks must all be counted within this many seconds per chunk (at least 900 s a tick)",
    )
    parser.add_argument("--risk-calls", type=int, default=1000, help="calls per side for the risk score latency")
    parser.add_argument("--risk-bulk", type=int, default=1000, help="transactions for the bulk queue throughput")
    parser.add_argument("--rec-calls", type=int, default=500, help="calls per side for the recommendations GET")
    parser.add_argument("--rec-events", type=int, default=50, help="events timed for recommendations' event to effect")
    parser.add_argument("--propensity-calls", type=int, default=500, help="calls per side for the propensity score")
    parser.add_argument("--propensity-events", type=int, default=50, help="events timed for the profile update")
    parser.add_argument("--support-calls", type=int, default=300, help="messages per side for customer service")
    parser.add_argument("--quote-calls", type=int, default=1000, help="calls per side for the quote latency figure")
    parser.add_argument("--forecast-skus", type=int, default=10_000, help="SKUs through the daily forecast fan-out")
    parser.add_argument("--forecast-calls", type=int, default=500, help="calls per side for the forecasting API")
    parser.add_argument(
        "--forecast-workers", default="2,4", help="concurrent workers draining the fan-out, after the one in process"
    )
    parser.add_argument(
        "--fresh-clone",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="startup: also time install + a first up on a fresh clone (several minutes: it trains every model)",
    )
    parser.add_argument(
        "--stream-events", type=int, default=100_000, help="behaviour events posted end to end (5000: a quick run)"
    )
    parser.add_argument("--visual-calls", type=int, default=500, help="POST /visual/search calls at 100k items")
    parser.add_argument(
        "--forecast-model-series",
        type=int,
        default=forecast_models.OJ_SERIES,
        help="OJ series through Prophet, the hybrid and the served model (913: all; Prophet takes ~0.3-1.7 s each)",
    )
    args = parser.parse_args(argv)
    chosen = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if min(args.pricing_skus, args.quote_calls, args.risk_calls, args.risk_bulk, args.stream_events) < 1:
        parser.error("--pricing-skus, --quote-calls, --risk-calls, --risk-bulk and --stream-events must be at least 1")

    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    report = Report()
    print(
        "commerce-ai benchmarks: every figure is a ratio to a baseline measured in this run "
        "(the machine is shared; absolute times are for orientation only).",
        flush=True,
    )
    if "sizes" in chosen:
        try:
            sizes.run(report)
        except Exception as exc:
            report.error("sizes", exc)
    if "gateway" in chosen:
        try:
            gateway.run(report, calls=args.gateway_calls)
        except Exception as exc:
            report.error("gateway", exc)
    if chosen & IN_EMULATOR:
        try:
            with local_stack(BENCH_DIR) as local:
                print(
                    f"\nLocal stack: moto on {local.emulator.endpoint} (log {BENCH_DIR / 'moto.log'}), "
                    f"template bootstrapped, model {local.model}/{local.version} published, validated, active.",
                    flush=True,
                )
                if "cold" in chosen:
                    cold_start.run(local, report, runs=args.cold_runs)
                if "warm" in chosen:
                    warm_overhead.run(local, report, calls=args.warm_calls, hot_calls=args.hot_calls)
                if "risk" in chosen:
                    risk.run(local, report, calls=args.risk_calls, bulk=args.risk_bulk)
                if "stream" in chosen:
                    stream.run(local, report, events=args.stream_events)
                if "recommendations" in chosen:
                    recommendations.run(local, report, calls=args.rec_calls, events=args.rec_events)
                if "support" in chosen:
                    support.run(local, report, calls=args.support_calls, cold_runs=args.cold_runs)
                if "propensity" in chosen:
                    propensity.run(local, report, calls=args.propensity_calls, events=args.propensity_events)
                if "forecasting" in chosen:
                    forecasting.run(
                        local,
                        report,
                        skus=args.forecast_skus,
                        calls=args.forecast_calls,
                        workers=[int(n) for n in args.forecast_workers.split(",") if n.strip()],
                    )
                if "pricing" in chosen:  # last: it leaves the emulator holding the whole catalog
                    pricing.run(
                        local,
                        report,
                        skus=args.pricing_skus,
                        quote_calls=args.quote_calls,
                        chunk_seconds=args.pricing_chunk_seconds,
                    )
        except Exception as exc:
            report.error("local stack", exc)
    if "visual" in chosen:  # in process: the handler without the emulator (see tests/benchmarks/visual.py)
        try:
            visual.run(report, calls=args.visual_calls)
        except Exception as exc:
            report.error("visual", exc)
    if "forecast-models" in chosen:  # in process, no emulator: model fits on OJ
        try:
            forecast_models.run(report, series=args.forecast_model_series)
        except Exception as exc:
            report.error("forecast-models", exc)
    if "startup" in chosen:  # its own `commerce-ai up` processes, each with its own emulator
        try:
            startup.run(report, fresh_clone=args.fresh_clone)
        except Exception as exc:
            report.error("startup", exc)
    report.print_summary(time.perf_counter() - started)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())

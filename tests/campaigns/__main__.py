"""`make campaigns`: the reliability campaigns against one `commerce-ai up`, written to reports/reliability.md.

    .venv/bin/python -m tests.campaigns [--only faults,crashes,load,hostile] [--events 10000]
        [--small-events 2000] [--poison 0.05] [--fault-rate 0.05] [--crash-rate 0.002]
        [--load-seconds 30] [--concurrency 8] [--fuzz-examples 30] [--report reports/reliability.md]
        [--attach HTTP AWS STATE_DIR]

`--events` is N for the busiest queues (risk bulk scoring, the behaviour stream); `--small-events` for the
others. `--attach` drives a stack already running with COMMERCE_AI_FAULTS=<STATE_DIR>/faults.json instead
of starting one. The campaigns are studies, not tests: nothing here runs in `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.template import ROOT
from tests.campaigns import crashes, hostile, load, queues
from tests.campaigns._up import Up, attach, up
from tests.campaigns.report import Report

SECTIONS = ("faults", "crashes", "load", "hostile")


class LoadSampler:
    """The machine's 1-minute load average every 15 s while the campaigns run (the machine is shared)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(15)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> str:
        if not self.samples:
            return "not sampled"
        return (
            f"1-minute load average on {os.cpu_count()} cores, sampled every 15 s: min {min(self.samples):.1f}, "
            f"median {statistics.median(self.samples):.1f}, max {max(self.samples):.1f} ({len(self.samples)} samples)"
        )


class Steps:
    """Runs each campaign step, records its failure in the report instead of stopping, and starts none after
    the deadline (the report lists those that did not run)."""

    def __init__(self, report: Report, deadline: datetime | None) -> None:
        self.report = report
        self.deadline = deadline

    def left(self) -> float:
        return (self.deadline - datetime.now(UTC)).total_seconds() if self.deadline else 1800.0

    def run(self, name: str, step: Callable[[], Any], needs: Any = True) -> Any:
        if needs is None:
            self.report.skipped.append(f"{name}: the stack was not ready")
            return None
        if self.left() <= 0:
            self.report.skipped.append(f"{name}: past the deadline")
            return None
        print(f"{datetime.now(UTC):%H:%M:%S} {name}", flush=True)
        started = time.monotonic()
        try:
            result = step()
        except Exception as exc:
            self.report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            return None
        print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
        return True if result is None else result


@contextmanager
def stack(args: argparse.Namespace) -> Iterator[Up]:
    if args.attach:
        http, aws, state = args.attach
        yield attach(http, aws, Path(state))
    else:
        with up(ROOT / "build" / "campaigns" / "state") as started:
            yield started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.campaigns", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--events", type=int, default=10_000, help="messages per busiest queue")
    parser.add_argument("--small-events", type=int, default=2_000, help="messages per other queue")
    parser.add_argument("--poison", type=float, default=0.05, help="share of poison messages")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of AWS calls faulted")
    parser.add_argument("--crash-rate", type=float, default=0.002, help="share of AWS calls that kill the process")
    parser.add_argument("--crash-events", type=int, default=2_000, help="messages for the crash campaign")
    parser.add_argument("--load-seconds", type=float, default=30.0, help="seconds of load per route (and per floor)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads for the load")
    parser.add_argument("--fuzz-examples", type=int, default=30, help="schemathesis examples per route")
    parser.add_argument("--cases", default=",".join(queues.CASES), help="queue cases for the fault campaign")
    parser.add_argument("--report", default=str(ROOT / "reports" / "reliability.md"))
    parser.add_argument("--attach", nargs=3, metavar=("HTTP", "AWS", "STATE_DIR"))
    parser.add_argument(
        "--deadline", help="UTC HH:MM after which no new step starts (the report says what did not run)"
    )
    parser.add_argument("--note", default="", help="a sentence for the report about how this run was made")
    args = parser.parse_args(argv)
    chosen = {s.strip() for s in args.only.split(",") if s.strip()}
    if chosen - set(SECTIONS):
        parser.error(f"unknown section(s): {', '.join(sorted(chosen - set(SECTIONS)))}")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    report = Report(
        started=datetime.now(UTC),
        commit=commit.stdout.strip(),
        settings=vars(args) | {"attach": bool(args.attach)},
    )
    deadline = None
    if args.deadline:
        hour, minute = (int(x) for x in args.deadline.split(":"))
        deadline = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    sampler = LoadSampler()
    sampler.start()
    began = time.monotonic()
    try:
        with stack(args) as running:
            report.stack = "attached" if args.attach else "started by the campaign (`commerce-ai up`)"
            report.stack += f". {args.note}" if args.note else ""
            steps = Steps(report, deadline)
            sizes = {
                "behaviour": args.events,
                "risk-transactions": args.events,
                "risk-account-events": args.small_events,
                "support-tickets": args.small_events,
            }
            names = [c.strip() for c in args.cases.split(",") if c.strip()]
            early = [(queues.CASES[n], sizes[n]) for n in names if not queues.CASES[n].needs_models]
            late = [(queues.CASES[n], sizes[n]) for n in names if queues.CASES[n].needs_models]
            fast = [a for a in hostile.attacks() if a.fast]
            # First what needs no model (an attached stack may still be building), then the rest once ready.
            if "faults" in chosen and early:
                steps.run(
                    "faults (consumers without a model)",
                    lambda: report.faults.extend(queues.run_cases(running, early, args.poison, args.fault_rate)),
                )
            if "crashes" in chosen:
                steps.run(
                    "crashes: risk account events",
                    lambda: report.crashes.extend(
                        queues.run_cases(
                            running,
                            [(queues.RISK_ACCOUNT_EVENTS, args.crash_events)],
                            args.poison,
                            0.0,
                            args.crash_rate,
                        )
                    ),
                )
            if "hostile" in chosen:
                steps.run(
                    "hostile (attacks that need no model)",
                    lambda: report.hostile.extend(hostile.run_attack(running, a) for a in fast),
                )
            ready = steps.run("wait for the stack to be ready", lambda: running.wait_ready(steps.left()))
            if ready is None:
                report.errors.append("the stack was not ready before the deadline: the steps below did not run")
            if "faults" in chosen and late:
                steps.run(
                    "faults (risk bulk scoring)",
                    lambda: report.faults.extend(queues.run_cases(running, late, args.poison, args.fault_rate)),
                    needs=ready,
                )
            if "crashes" in chosen:
                steps.run(
                    "crashes: risk bulk scoring",
                    lambda: report.crashes.extend(
                        queues.run_cases(
                            running, [(queues.RISK_TRANSACTIONS, args.crash_events)], args.poison, 0.0, args.crash_rate
                        )
                    ),
                    needs=ready,
                )
                steps.run(
                    "crashes: pricing tick",
                    lambda: setattr(report, "tick", crashes.pricing_tick(running, crash_rate=args.crash_rate * 5)),
                    needs=ready,
                )
            if "load" in chosen:
                for route in load.ROUTES:
                    steps.run(
                        f"load: {route.name}",
                        lambda route=route: report.load.append(
                            load.run_route(running, route, args.concurrency, args.load_seconds)
                        ),
                        needs=ready,
                    )
            if "hostile" in chosen:
                rest = [a for a in hostile.attacks() if not a.fast]
                steps.run(
                    "hostile (replays and pre-claims, with models)",
                    lambda: report.hostile.extend(hostile.run_attack(running, a) for a in rest),
                    needs=ready,
                )
                workdir = ROOT / "build" / "campaigns" / "schemathesis"
                steps.run(
                    "hostile: schemathesis",
                    lambda: setattr(report, "fuzz", hostile.schemathesis(running, args.fuzz_examples, workdir)),
                    needs=ready,
                )
    finally:
        sampler.stop()
        report.seconds = time.monotonic() - began
        report.machine = sampler.summary()
        Path(args.report).write_text(report.markdown())
        print(f"\nwrote {args.report}", flush=True)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

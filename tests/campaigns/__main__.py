"""`make campaigns`: the reliability campaigns against one `commerce-ai up`, written to reports/reliability.md.

    .venv/bin/python -m tests.campaigns [--only PART,...] [--events 10000] [--small-events 10000]
        [--crash-events 2000] [--poison 0.05] [--fault-rate 0.05] [--crash-rate 0.002] [--load-seconds 30]
        [--concurrency 8] [--fuzz-examples 30] [--report reports/reliability.md] [--attach HTTP AWS STATE_DIR]
        [--estimate]

Parts (`--only` takes part names or the sections faults, crashes, load, hostile; default: all of them):
faults-account-events, faults-behaviour, faults-support, faults-risk, crashes-account-events, crashes-risk,
crashes-pricing-tick, hostile, load, schemathesis. Parts that drive different functions run at once, one
lane per consumer (a function's faults then its crashes in turn); then the hand-written attacks and the
load, each alone (latencies must not share the machine with the queues), and schemathesis last (its
random admin calls change state).
The run prints its estimated duration first (`--estimate`: only that). `--events` is N for the busiest
queues (risk bulk scoring, the behaviour stream), `--small-events` for the others. `--attach` drives a stack
already running with COMMERCE_AI_FAULTS=<STATE_DIR>/faults.json instead of starting one. The campaigns are
studies, not tests: nothing here runs in `make test`.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.template import ROOT
from tests.campaigns import crashes, hostile, load, queues
from tests.campaigns._up import Up, attach, up
from tests.campaigns.report import Report

SECTIONS = ("faults", "crashes", "load", "hostile")

# Records a second each consumer took its messages at under the campaign's faults (until only the poison
# was left), measured with the lanes running at once (they share the emulator and the machine), and the
# other parts' seconds: the basis of the printed estimate. Measured in the full run of 2026-12-06 13:07 UTC
# (reports/reliability.md: N = 10,000 per queue, 2,000 per crash campaign, the emulator's SQS clock fixed)
# at a 1-minute load average of 0.5-9.8, median 4.1; on a loaded machine the consumers are slower (at a load
# of 10-26, before the clock fix, they took 2-3 records a second), so there the estimate errs short.
MEASURED_AT = "2026-12-06 at N=10,000, on 2 shared cores at a median 1-minute load average of 4"
RATES = {
    "faults-account-events": 7.6,
    "faults-behaviour": 4.6,
    "faults-support": 8.3,
    "faults-risk": 5.2,
    "crashes-account-events": 8.2,
    "crashes-risk": 9.4,
}
# After the last good record, the poison waits out three receives (30 s visibility each) before its DLQ,
# then the counting: measured 55-170 s whatever N.
POISON_TAIL_SECONDS = 150.0
PRICING_TICK_SECONDS = 120.0  # a whole-catalog tick with its chunk workers dying and coming back: 106 s
HOSTILE_SECONDS = 60.0  # 54 attacks: 25 s
# schemathesis: 101 s at 30 examples per route (4,028 cases); at load ~15 its coverage phase alone took 137 s
SCHEMATHESIS_SECONDS = 60.0
SCHEMATHESIS_SECONDS_PER_EXAMPLE = 2.0
READY_BUDGET = 1800.0  # a first `up` trains every capability; the build cache makes later ones short


@dataclass(frozen=True)
class Part:
    name: str
    section: str
    lane: str  # parts of one lane run in turn (they drive the same functions); lanes run at once
    phase: int  # 1: the lanes; 2: hostile, then load, each alone; 3: schemathesis, alone and last
    needs_ready: bool  # needs served models: waits for GET /health 200


PARTS = [
    Part("faults-account-events", "faults", "risk account events", 1, False),
    Part("faults-behaviour", "faults", "behaviour events", 1, False),
    Part("faults-support", "faults", "support tickets", 1, False),
    # alone: its reprice replays must not meet the pricing tick's campaign (a running tick refuses them)
    Part("hostile", "hostile", "hostile", 2, True),
    Part("crashes-account-events", "crashes", "risk account events", 1, False),
    Part("faults-risk", "faults", "risk bulk scoring", 1, True),
    Part("crashes-risk", "crashes", "risk bulk scoring", 1, True),
    Part("crashes-pricing-tick", "crashes", "pricing tick", 1, True),
    Part("load", "load", "load", 2, True),
    Part("schemathesis", "hostile", "schemathesis", 3, True),
]
QUEUE_PARTS = {
    "faults-account-events": ("risk-account-events", "small_events", False),
    "faults-behaviour": ("behaviour", "events", False),
    "faults-support": ("support-tickets", "small_events", False),
    "faults-risk": ("risk-transactions", "events", False),
    "crashes-account-events": ("risk-account-events", "crash_events", True),
    "crashes-risk": ("risk-transactions", "crash_events", True),
}


def part_size(part: str, args: argparse.Namespace) -> int:
    return int(getattr(args, QUEUE_PARTS[part][1])) if part in QUEUE_PARTS else 0


def estimate(part: str, args: argparse.Namespace) -> float:
    """Seconds `part` should take, from the measured rates."""
    if part in QUEUE_PARTS:
        return part_size(part, args) / RATES[part] + POISON_TAIL_SECONDS
    if part == "crashes-pricing-tick":
        return PRICING_TICK_SECONDS
    if part == "hostile":
        return HOSTILE_SECONDS
    if part == "load":
        return len(load.ROUTES) * 2 * args.load_seconds + 10 * len(load.ROUTES)
    return SCHEMATHESIS_SECONDS + SCHEMATHESIS_SECONDS_PER_EXAMPLE * args.fuzz_examples


def budget(part: str, args: argparse.Namespace) -> float:
    """The most `part` may take: three times its estimate, and a floor for a slow machine."""
    return 600.0 + 3 * estimate(part, args)


def plan_text(chosen: list[Part], args: argparse.Namespace) -> str:
    lanes: dict[str, float] = {}
    for part in chosen:
        if part.phase == 1:
            lanes[part.lane] = lanes.get(part.lane, 0.0) + estimate(part.name, args)
    phase1 = max(lanes.values(), default=0.0)
    later = sum(estimate(p.name, args) for p in chosen if p.phase > 1)
    lines = [f"estimated duration: {(phase1 + later) / 60:.0f} min (rates measured {MEASURED_AT}), the stack ready"]
    for lane, seconds in sorted(lanes.items(), key=lambda kv: -kv[1]):
        names = ", ".join(
            f"{p.name} (N={part_size(p.name, args)})" if p.name in QUEUE_PARTS else p.name
            for p in chosen
            if p.lane == lane
        )
        lines.append(f"  lane {lane}: {seconds / 60:.1f} min: {names}")
    lines.append(
        f"  the lanes at once: {phase1 / 60:.1f} min; then alone: "
        + ", ".join(f"{p.name} {estimate(p.name, args) / 60:.1f} min" for p in chosen if p.phase > 1)
    )
    return "\n".join(lines)


def choose(only: str) -> tuple[list[Part], list[str]]:
    """The parts `--only` names (part or section names); unknown names."""
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    known = {p.name for p in PARTS} | set(SECTIONS)
    chosen = [p for p in PARTS if p.name in wanted or p.section in wanted]
    return chosen, sorted(wanted - known)


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
    """Runs each campaign part, records its failure in the report instead of stopping, and starts none after
    the deadline or once the stack cannot be ready (the report lists those that did not run, and why)."""

    def __init__(self, report: Report, deadline: datetime | None, running: Up) -> None:
        self.report = report
        self.deadline = deadline
        self.running = running
        self._ready_lock = threading.Lock()
        self._ready: bool | None = None

    def left(self) -> float:
        return (self.deadline - datetime.now(UTC)).total_seconds() if self.deadline else READY_BUDGET

    def ready(self) -> bool:
        """Wait (once, for every lane) for the stack's models to be served."""
        with self._ready_lock:
            if self._ready is None:
                try:
                    waited = self.running.wait_ready(max(self.left(), 1.0))
                    print(f"{datetime.now(UTC):%H:%M:%S} the stack is ready (waited {waited:.0f} s)", flush=True)
                    self._ready = True
                except TimeoutError as exc:
                    self.report.errors.append(f"the stack was not ready: {exc}")
                    self._ready = False
            return self._ready

    def run(self, part: Part, step: Callable[[], Any]) -> Any:
        if part.needs_ready and not self.ready():
            self.report.skipped.append(f"{part.name}: the stack was not ready")
            return None
        if self.left() <= 0:
            self.report.skipped.append(f"{part.name}: past the deadline")
            return None
        print(f"{datetime.now(UTC):%H:%M:%S} {part.name} started", flush=True)
        started = time.monotonic()
        try:
            result = step()
        except Exception as exc:
            self.report.errors.append(f"{part.name}: {type(exc).__name__}: {exc}")
            return None
        finally:
            self.report.durations[part.name] = time.monotonic() - started
        print(f"{datetime.now(UTC):%H:%M:%S} {part.name} done in {time.monotonic() - started:.0f} s", flush=True)
        return True if result is None else result


@contextmanager
def stack(args: argparse.Namespace) -> Iterator[Up]:
    if args.attach:
        http, aws, state = args.attach
        yield attach(http, aws, Path(state))
    else:
        with up(ROOT / "build" / "campaigns" / "state") as started:
            yield started


def _step(part: Part, running: Up, report: Report, args: argparse.Namespace) -> Callable[[], Any]:
    """What running `part` does (its result lands in the report)."""
    if part.name in QUEUE_PARTS:
        case, _, crash = QUEUE_PARTS[part.name]
        size = part_size(part.name, args)
        target = report.crashes if crash else report.faults
        fault_rate, crash_rate = (0.0, args.crash_rate) if crash else (args.fault_rate, 0.0)

        def drive() -> None:
            target.extend(queues.run_cases(running, [(queues.CASES[case], size)], args.poison, fault_rate, crash_rate))

        return drive
    if part.name == "crashes-pricing-tick":
        return lambda: setattr(
            report,
            "tick",
            crashes.pricing_tick(running, crash_rate=args.crash_rate, timeout=budget(part.name, args)),
        )
    if part.name == "hostile":
        return lambda: report.hostile.extend(hostile.run_attack(running, a) for a in hostile.attacks())
    if part.name == "load":

        def hammer() -> None:
            for route in load.ROUTES:
                print(f"  load: {route.name}", flush=True)
                report.load.append(load.run_route(running, route, args.concurrency, args.load_seconds))

        return hammer
    workdir = ROOT / "build" / "campaigns" / "schemathesis"
    return lambda: setattr(
        report, "fuzz", hostile.schemathesis(running, args.fuzz_examples, workdir, timeout=budget(part.name, args))
    )


def run_parts(chosen: list[Part], steps: Steps, running: Up, report: Report, args: argparse.Namespace) -> None:
    """Phase 1: one thread per lane, each lane's parts in turn; then phase 2 and 3, alone."""
    lanes: dict[str, list[Part]] = {}
    for part in chosen:
        if part.phase == 1:
            lanes.setdefault(part.lane, []).append(part)

    def lane(parts: list[Part]) -> None:
        for part in parts:
            steps.run(part, _step(part, running, report, args))

    threads = [threading.Thread(target=lane, args=(parts,), name=name) for name, parts in lanes.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for part in sorted((p for p in chosen if p.phase > 1), key=lambda p: p.phase):
        steps.run(part, _step(part, running, report, args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.campaigns", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="parts or sections, comma-separated")
    parser.add_argument("--events", type=int, default=10_000, help="messages per busiest queue")
    parser.add_argument("--small-events", type=int, default=10_000, help="messages per other queue")
    parser.add_argument("--poison", type=float, default=0.05, help="share of poison messages")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of AWS calls faulted")
    parser.add_argument("--crash-rate", type=float, default=0.002, help="share of AWS calls that kill the process")
    parser.add_argument("--crash-events", type=int, default=2_000, help="messages for each crash campaign")
    parser.add_argument("--load-seconds", type=float, default=30.0, help="seconds of load per route (and per floor)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads for the load")
    parser.add_argument("--fuzz-examples", type=int, default=30, help="schemathesis examples per route")
    parser.add_argument("--report", default=str(ROOT / "reports" / "reliability.md"))
    parser.add_argument("--attach", nargs=3, metavar=("HTTP", "AWS", "STATE_DIR"))
    parser.add_argument(
        "--deadline", help="UTC HH:MM after which no new part starts (the report says what did not run)"
    )
    parser.add_argument("--estimate", action="store_true", help="print the estimated duration and stop")
    parser.add_argument("--note", default="", help="a sentence for the report about how this run was made")
    args = parser.parse_args(argv)
    chosen, unknown = choose(args.only)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}; parts: {', '.join(p.name for p in PARTS)}")
    plan = plan_text(chosen, args)
    print(plan, flush=True)
    if args.estimate:
        return 0

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    report = Report(
        started=datetime.now(UTC),
        commit=commit.stdout.strip(),
        settings=vars(args) | {"attach": bool(args.attach)},
    )
    report.plan = plan
    report.skipped += [f"{p.name}: not chosen (--only {args.only})" for p in PARTS if p not in chosen]
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
            run_parts(chosen, Steps(report, deadline, running), running, report, args)
    finally:
        sampler.stop()
        report.seconds = time.monotonic() - began
        report.machine = sampler.summary()
        Path(args.report).write_text(report.markdown())
        print(f"\nwrote {args.report}", flush=True)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())

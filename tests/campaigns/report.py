"""reports/reliability.md from one campaign run: what ran, at which N, on how loaded a machine, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.benchmarks._report import fmt_seconds
from tests.campaigns.crashes import TickOutcome
from tests.campaigns.hostile import Verdict
from tests.campaigns.load import LoadResult, p
from tests.campaigns.queues import CAMPAIGN_VISIBILITY_SECONDS, Outcome


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Report:
    started: datetime
    commit: str
    settings: dict[str, Any]
    stack: str = ""
    machine: str = ""
    seconds: float = 0.0
    faults: list[Outcome] = field(default_factory=list)
    crashes: list[Outcome] = field(default_factory=list)
    tick: TickOutcome | None = None
    load: list[LoadResult] = field(default_factory=list)
    hostile: list[Verdict] = field(default_factory=list)
    fuzz: tuple[int, str] | None = None
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    plan: str = ""  # the estimate printed at the start
    durations: dict[str, float] = field(default_factory=dict)  # each part's seconds, as it ran

    def markdown(self) -> str:
        s = self.settings
        out = [
            "# Reliability campaigns",
            "",
            "Written by `make campaigns` (`python -m tests.campaigns`, code in `tests/campaigns/`); the figures below "
            "are that run's, not edited. Issue 18, part 9.",
            "",
            f"- Run: {self.started:%Y-%m-%d %H:%M} UTC, commit `{self.commit}`, {fmt_seconds(self.seconds)} in all; "
            f"stack {self.stack}.",
            f"- Machine: {self.machine}. The machine is shared with other jobs, so times are for orientation; "
            "the counts are what the campaigns are for.",
            f"- Settings: N = {s['events']} messages on the busiest queues, {s['small_events']} on the others, "
            f"{s['poison']:.0%} poison; fault rate {s['fault_rate']:.0%} of every AWS call the functions make; "
            f"crash rate {s['crash_rate']:.1%} of calls; load {s['load_seconds']:.0f} s per "
            f"route and per floor at {s['concurrency']} client threads; schemathesis {s['fuzz_examples']} examples "
            "per route.",
            f"- Queues driven by a campaign have their visibility timeout shortened to {CAMPAIGN_VISIBILITY_SECONDS} s "
            "(the template's are 180-3600 s, so a poison record would need 9+ minutes to reach its DLQ); the receive "
            "counts and the redrive to the DLQ are the emulator's, as SQS's.",
            "- Parts that drive different functions ran at once, one lane per consumer; the hand-written attacks "
            "and the load ran alone after them, schemathesis last. Each part's time: "
            + (", ".join(f"{name} {fmt_seconds(sec)}" for name, sec in self.durations.items()) or "none ran")
            + ".",
            "",
        ]
        if self.plan:
            out += ["The estimate printed at the start:", "", "```", self.plan, "```", ""]
        if self.errors or self.skipped:
            out += ["## Parts that did not run, or failed", "", *[f"- {e}" for e in self.errors + self.skipped], ""]
        out += self._faults() + self._crashes() + self._load() + self._hostile()
        return "\n".join(out) + "\n"

    def _queue_rows(self, outcomes: list[Outcome]) -> list[list[Any]]:
        return [
            [
                o.case,
                o.n,
                o.poison,
                o.lost,
                o.twice,
                o.poison_not_in_dlq,
                o.good_in_dlq,
                o.faults,
                o.crashes,
                fmt_seconds(o.seconds),
                f"{o.rate:.1f} (all but the poison in {fmt_seconds(o.consumed)})" if o.rate == o.rate else "-",
            ]
            for o in outcomes
        ]

    _QUEUE_HEADERS = [
        "queue (and what it feeds)",
        "N",
        "poison",
        "lost",
        "applied twice",
        "poison not in DLQ",
        "good in DLQ",
        "faults injected",
        "processes killed",
        "drain time",
        "records/s",
    ]

    def _faults(self) -> list[str]:
        if not self.faults:
            return []
        out = [
            "## Fault injection",
            "",
            "`infra/runner/faults.py` hooks every botocore client in every function process (`before-send`): at the "
            "rate above, a call is answered with a throttle, a 500, a connection error before it is sent, or a read "
            "timeout after AWS applied it (the SDK then retries a write that already landed). Goal: 0 lost, "
            "0 applied twice, 0 poison outside the DLQ.",
            "",
            _table(self._QUEUE_HEADERS, self._queue_rows(self.faults)),
            "",
        ]
        for outcome in self.faults:
            out += [f"- {outcome.case}: " + "; ".join(outcome.notes)]
        return [*out, ""]

    def _crashes(self) -> list[str]:
        out: list[str] = []
        if self.crashes or self.tick:
            out += [
                "## Worker crashes",
                "",
                "The fault layer kills the function's process (SIGKILL) at a random AWS call, before it is sent or "
                "after it was applied; the runner fails that invocation as Lambda does and the batch comes back after "
                "the visibility timeout to a new process.",
                "",
            ]
        if self.crashes:
            out += [_table(self._QUEUE_HEADERS, self._queue_rows(self.crashes)), ""]
            out += [f"- {o.case}: " + "; ".join(o.notes) for o in self.crashes] + [""]
        if self.tick:
            t = self.tick
            summary = t.view.get("summary") or {}
            out += [
                f"Pricing tick `{t.tick}` (whole catalogue, chunk workers killed mid-chunk): "
                f"{t.crashes} processes killed, {fmt_seconds(t.seconds)}.",
                "",
                _table(
                    [
                        "catalogue SKUs",
                        "SKUs counted by the tick",
                        "chunks",
                        "chunks done",
                        "chunks failed",
                        "applied",
                        "SKUs whose entry names the tick",
                        "lost",
                        "applied twice",
                    ],
                    [
                        [
                            t.catalogue,
                            t.counted,
                            t.view.get("chunks"),
                            t.view.get("chunks_done"),
                            t.view.get("chunks_failed"),
                            summary.get("applied"),
                            t.last_tick_skus,
                            t.lost,
                            t.twice,
                        ]
                    ],
                ),
                "",
                f"Tick state: `{t.view.get('state')}`; summary {summary}.",
                "",
            ]
        return out

    def _load(self) -> list[str]:
        if not self.load:
            return []
        rows = []
        for r in self.load:
            ok = [s for s in sorted(r.statuses) if 0 < s < 400]
            bad = {s: c for s, c in r.statuses.items() if s == 0 or (s >= 400 and s != 429)}
            rows.append(
                [
                    r.route,
                    r.calls,
                    r.rate_limited,
                    f"{r.throughput:.1f}/s",
                    fmt_seconds(p(r.answered, 50)),
                    fmt_seconds(p(r.answered, 99)),
                    f"{r.errors} {bad if bad else ''}".strip(),
                    f"{r.floor_throughput:.0f}/s",
                    fmt_seconds(p(r.floor_latencies, 50)),
                    fmt_seconds(p(r.floor_latencies, 99)),
                    f"{p(r.answered, 50) / p(r.floor_latencies, 50):.1f}x",
                    ",".join(str(s) for s in ok),
                ]
            )
        return [
            "## Load",
            "",
            "Each route from a local client for the set time (kept-alive sessions, the threads above), then the "
            "emulator's floor for the same time and threads: a bare boto3 GetItem on the table the route reads "
            "(a Publish to the topic for `POST /events`). The local runner serves each function from one warm "
            "process, so concurrent calls queue there as on a single Lambda instance; AWS would add instances. "
            "A call the caller kind's rate limit refuses (429 with Retry-After, as the template declares) is counted "
            "apart: throughput, p50 and p99 are those of the calls answered with a success.",
            "",
            _table(
                [
                    "route",
                    "calls",
                    "429 (rate limit)",
                    "throughput",
                    "p50",
                    "p99",
                    "errors (status: calls)",
                    "floor throughput",
                    "floor p50",
                    "floor p99",
                    "p50 / floor p50",
                    "success statuses",
                ],
                rows,
            ),
            "",
        ]

    def _hostile(self) -> list[str]:
        if not self.hostile and not self.fuzz:
            return []
        out = ["## Hostile input", ""]
        if self.hostile:
            passed = sum(v.passed for v in self.hostile)
            out += [
                f"Hand-written attacks (`tests/campaigns/hostile.py`): {passed} of {len(self.hostile)} ended as "
                "required (the expected 4xx, or any 4xx where none is named; for an identical retry, a 2xx with the "
                "first answer; and the state it aimed at unchanged, read from the store before and after).",
                "",
                _table(
                    ["attack", "caller", "status", "expected", "state changed", "verdict", "answer (start)"],
                    [
                        [
                            v.attack.name,
                            v.attack.caller,
                            v.status,
                            ",".join(map(str, v.attack.expect)) or "4xx",
                            "yes" if v.changed else ("no" if v.attack.probe else "not probed"),
                            "pass" if v.passed else "**FAIL**",
                            v.detail[:90].replace("\n", " "),
                        ]
                        for v in self.hostile
                    ],
                ),
                "",
            ]
        if self.fuzz:
            code, output = self.fuzz
            tail = [line for line in output.splitlines() if line.strip()][-12:]
            out += [
                f"schemathesis over every route of docs/openapi.json (the platform's run, "
                f"tests/e2e/platform/test_contract.py, at {self.settings['fuzz_examples']} examples per route), "
                f"exit code {code} ({'no failures' if code == 0 else 'failures: see below'}). Its summary:",
                "",
                "```",
                *tail,
                "```",
                "",
            ]
        return out

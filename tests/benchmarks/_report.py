"""Statistics and the printed report shared by every benchmark.

The machine that runs `make bench` is shared and noisy, so no figure is a bare time: each one is printed
as a ratio against a baseline measured in the same run, interleaved with it where possible. Absolute
times appear alongside for orientation only.
"""

from __future__ import annotations

import math
import statistics
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (`pct` in 0..100) of a non-empty sample."""
    if not values:
        raise ValueError("percentile of an empty sample")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.inf


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.2f}x"


def fmt_seconds(seconds: float) -> str:
    """A duration in the unit that keeps 3 significant digits readable (µs, ms or s)."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mb(size_bytes: float) -> str:
    return f"{size_bytes / 1e6:.1f} MB"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ", left: Sequence[int] = (0,)) -> str:
    """A plain-text table; columns in `left` (default: the first) are left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return indent + "  ".join(parts).rstrip()

    out = [line(headers), indent + "  ".join("-" * w for w in widths)]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def heading(title: str) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", flush=True)


@dataclass
class Row:
    """One line of the final summary: a measured figure, its baseline and the headline ratio."""

    section: str
    what: str
    value: str
    baseline: str
    ratio: float | None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, section: str, what: str, value: str, baseline: str, ratio_: float | None, note: str = "") -> None:
        self.rows.append(Row(section, what, value, baseline, ratio_, note))

    def problem(self, text: str) -> None:
        """A finding worth reading (not a benchmark failure): printed again at the end."""
        self.problems.append(text)
        print(f"  !! {text}", flush=True)

    def error(self, section: str, exc: BaseException) -> None:
        """A benchmark that could not run: the run exits non-zero."""
        detail = "".join(traceback.format_exception(exc)).rstrip()
        self.errors.append(f"[{section}] {type(exc).__name__}: {exc}")
        print(f"\n  ERROR in {section}:\n{detail}\n", flush=True)

    def print_summary(self, elapsed: float) -> None:
        heading("SUMMARY (ratio = measured / baseline of the same run; lower is better)")
        rows = [[r.section, r.what, r.value, r.baseline, fmt_ratio(r.ratio), r.note] for r in self.rows]
        if rows:
            print(table(["section", "measure", "value", "baseline", "ratio", "note"], rows, left=(0, 1, 5)))
        else:
            print("  (no results)")
        if self.problems:
            print("\nFindings:")
            for text in self.problems:
                print(f"  - {text}")
        if self.errors:
            print("\nErrors (benchmarks that did not complete):")
            for text in self.errors:
                print(f"  - {text}")
        print(f"\nBenchmark run took {elapsed:.1f} s.", flush=True)

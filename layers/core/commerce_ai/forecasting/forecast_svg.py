"""A forecast chart as SVG, in plain Python: what `GET /forecasts/{sku}/plot` serves. History as a black
line (broken where a period has no record), the p10-p90 band shaded, p50 as a blue line, a grey rule where
the forecast starts, a y axis from 0 with round-number grid lines and labels, the first, last-observed and
last forecast dates under the x axis, a title and a legend. SVG is text, so it passes API Gateway and the
local gateway as any JSON body does (no binary media types), and it scales in a browser or a report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 30, 48
HISTORY_COLOUR, FORECAST_COLOUR, BAND_COLOUR, RULE_COLOUR, GRID_COLOUR = (
    "#141414",
    "#1f77b4",
    "#bbd6ec",
    "#969696",
    "#e6e6e6",
)


def nice_step(top: float, lines: int = 5) -> float:
    """A 1, 2 or 5 times a power of ten step that gives about `lines` grid lines up to `top`."""
    raw = max(top, 1e-9) / lines
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:g}"


def _path(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def forecast_svg(
    title: str,
    history_dates: Sequence[date],
    history: Sequence[float | None],
    dates: Sequence[date],
    p10: Sequence[float],
    p50: Sequence[float],
    p90: Sequence[float],
) -> str:
    """History then the forecast periods, left to right, on one y axis from 0 (units)."""
    n_hist, n_fut = len(history), len(dates)
    total = max(n_hist + n_fut, 2)
    values = [v for v in [*history, *p90] if v is not None and math.isfinite(v)]
    step = nice_step(max(values, default=1.0) or 1.0)
    top = step * math.ceil((max(values, default=1.0) or 1.0) / step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(i: float) -> float:
        return LEFT + plot_w * i / (total - 1)

    def py(v: float) -> float:
        return TOP + plot_h * (1 - max(0.0, min(v, top)) / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="18" font-size="13">{escape(title)}</text>',
    ]
    level = 0.0
    while level <= top + step / 2:
        y = py(level)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID_COLOUR}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(level)}</text>')
        level += step
    last = history[-1] if n_hist else None
    start = [(px(n_hist - 1), py(last))] if last is not None and math.isfinite(last) else []
    if n_fut:  # the band opens from the last observed period, as the p50 line starts there
        upper, lower = list(start), list(start)
        upper += [(px(n_hist + i), py(v)) for i, v in enumerate(p90)]
        lower += [(px(n_hist + i), py(v)) for i, v in enumerate(p10)]
        out.append(f'<polygon points="{_path(upper + lower[::-1])}" fill="{BAND_COLOUR}"/>')
    if n_hist:
        x = px(n_hist - 1)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" stroke="{RULE_COLOUR}"/>')
    segment: list[tuple[float, float]] = []
    for i, v in enumerate([*history, None]):
        if v is not None and math.isfinite(v):
            segment.append((px(i), py(v)))
            continue
        if len(segment) > 1:
            out.append(f'<polyline points="{_path(segment)}" fill="none" stroke="{HISTORY_COLOUR}"/>')
        segment = []
    median = start + [(px(n_hist + i), py(v)) for i, v in enumerate(p50)]
    if len(median) > 1:
        out.append(f'<polyline points="{_path(median)}" fill="none" stroke="{FORECAST_COLOUR}" stroke-width="2"/>')
    base = HEIGHT - BOTTOM
    out.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="{RULE_COLOUR}"/>')
    ticks = []
    if n_hist:
        ticks += [(0, history_dates[0], "start"), (n_hist - 1, history_dates[-1], "end")]  # apart from the last
    if n_fut:
        ticks.append((n_hist + n_fut - 1, dates[-1], "end"))
    for i, day, anchor in ticks:
        out.append(f'<text x="{px(i):.1f}" y="{base + 16}" text-anchor="{anchor}">{day.isoformat()}</text>')
    legend_x, legend_y = WIDTH - RIGHT - 220, HEIGHT - 10  # under the dates: a long title cannot reach it
    mid = legend_y - 4
    for offset, (label, colour, kind) in enumerate(
        [("history", HISTORY_COLOUR, "line"), ("p50", FORECAST_COLOUR, "line"), ("p10-p90", BAND_COLOUR, "box")]
    ):
        x = legend_x + 75 * offset
        shape = (
            f'<rect x="{x}" y="{legend_y - 9}" width="16" height="10" fill="{colour}"/>'
            if kind == "box"
            else f'<line x1="{x}" y1="{mid}" x2="{x + 16}" y2="{mid}" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'{shape}<text x="{x + 20}" y="{legend_y}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)

"""The forecast chart as SVG: well-formed, one y axis from 0 with round-number labels, the history broken
where a period has no record, the band and p50 over the forecast periods, and text escaped."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from commerce_ai.forecasting.forecast_svg import forecast_svg, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def weeks(start: date, n: int) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def chart(history: list[float | None], title: str = "oj-2-1") -> ElementTree.Element:
    past = weeks(date(1992, 1, 2), len(history))
    future = weeks(past[-1] + timedelta(weeks=1), 3)
    return ElementTree.fromstring(forecast_svg(title, past, history, future, [5, 6, 7], [10, 11, 12], [20, 22, 43]))


@pytest.mark.parametrize(("top", "step"), [(43, 10), (8, 2), (0.9, 0.2), (1200, 500), (1, 0.2)])
def test_grid_steps_are_round_numbers(top: float, step: float) -> None:
    assert nice_step(top) == pytest.approx(step)


def test_the_axis_runs_from_zero_past_the_highest_p90_with_labels() -> None:
    svg = chart([12.0, 15.0, 9.0])
    labels = [t.text for t in svg.iter(f"{SVG}text")]
    assert labels[:6] == ["oj-2-1", "0", "10", "20", "30", "40"] and "50" in labels
    assert {"1992-01-02", "1992-01-16", "1992-02-06", "history", "p50", "p10-p90"} <= set(labels)


def test_a_missing_period_breaks_the_history_line_and_the_band_spans_the_forecast() -> None:
    svg = chart([12.0, 15.0, None, 9.0, 10.0, 11.0])
    history, median = svg.findall(f"{SVG}polyline")[0:2], svg.findall(f"{SVG}polyline")[2]
    assert [len(line.get("points", "").split()) for line in history] == [2, 3]
    assert len(median.get("points", "").split()) == 4  # from the last observed period through 3 forecasts
    assert len(svg.find(f"{SVG}polygon").get("points", "").split()) == 8  # type: ignore[union-attr]


def test_text_is_escaped() -> None:
    assert chart([1.0, 2.0], title="a<b & c").find(f"{SVG}title").text == "a<b & c"  # type: ignore[union-attr]

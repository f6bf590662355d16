"""The sales reader refuses a bad file whole, naming the line at fault; the CLI then writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from commerce_ai.forecasting.sales_csv import SalesFileError, read_sales


def daily(n: int, start: date = date(2026, 1, 1)) -> list[str]:
    return [f"{start + timedelta(days=i)},{10 + i % 7}" for i in range(n)]


def single(rows: list[str]) -> str:
    return "date,sales\n" + "\n".join(rows) + "\n"


def test_a_good_single_series_is_read_daily() -> None:
    sales = read_sales(single(daily(30)))
    assert sales.freq == "D"
    assert list(sales.series) == ["series"]
    assert len(sales.series["series"].units) == 30


def test_a_multi_series_file_with_price_and_promo_is_read_weekly() -> None:
    start = date(2026, 1, 5)
    lines = ["date,sku,units,price,promo"]
    for sku in ("a", "b"):
        lines += [f"{start + timedelta(weeks=i)},{sku},{5 + i},2.5,{i % 2}" for i in range(30)]
    sales = read_sales("\n".join(lines))
    assert sales.freq == "W"
    assert sorted(sales.series) == ["a", "b"]
    assert sales.series["b"].promo[:2] == [0.0, 1.0]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("day,sales\n2026-01-01,3\n", 1, "header"),
        ("date,sku,sales\n2026-01-01,a,3\n", 1, "header"),
        (single([*daily(5), "2026-01-06,abc", *daily(30, date(2026, 1, 7))]), 7, "not a number"),
        (single([*daily(5), "2026-01-06,-2", *daily(30, date(2026, 1, 7))]), 7, "negative"),
        (single([*daily(5), "06/01/2026,2", *daily(30, date(2026, 1, 7))]), 7, "YYYY-MM-DD"),
        (single([*daily(5), "0999-01-06,2", *daily(30, date(2026, 1, 7))]), 7, "YYYY-MM-DD"),  # 3-digit year
        (single([*daily(5), *daily(30, date(2026, 1, 8))]), 7, "missing date"),
        (single([*daily(5), "2026-01-05,4", *daily(30, date(2026, 1, 6))]), 7, "twice"),
        (single(daily(10)), 11, "too little history"),
        (single([*daily(3), "2026-01-04,2,9", *daily(30, date(2026, 1, 5))]), 5, "fields"),
        ("date,sales\n", 1, "no rows"),
    ],
)
def test_a_bad_file_is_refused_naming_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(SalesFileError) as refused:
        read_sales(text)
    assert refused.value.line == line
    assert words in str(refused.value)
    assert str(refused.value).startswith(f"line {line}:")


def test_an_off_grid_weekly_date_is_named() -> None:
    rows = [f"{date(2026, 1, 5) + timedelta(weeks=i)},3" for i in range(30)]
    rows.insert(10, "2026-03-18,3")  # a Wednesday among Mondays
    with pytest.raises(SalesFileError, match="off the W grid"):
        read_sales(single(rows), freq="W")


def test_the_cli_writes_nothing_for_a_refused_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from model_build.forecasting.command import run

    bad = tmp_path / "sales_data.csv"
    bad.write_text(single([*daily(40), "2026-02-10,-1"]))
    out, plot = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    assert run(bad, 30, None, out, plot) == 2
    assert "line 42" in capsys.readouterr().err
    assert not out.exists() and not plot.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["sales_data.csv"]

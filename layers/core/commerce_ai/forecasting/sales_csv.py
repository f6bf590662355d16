"""Read a sales file for forecasting, refusing it whole with the line at fault.

Two layouts (the header decides):
- one series: `date,sales`, the seed's `sales_data.csv`;
- several: `date,sku,units` with optional `price` and `promo` columns.

Dates are `YYYY-MM-DD`; the frequency is daily (`D`) or weekly (`W`, every date on the same weekday), given
or inferred from the first series' smallest gap. Every series must be gapless at that frequency, with
non-negative numeric sales, a positive price and a promo in [0, 1], and enough history. Errors are
`SalesFileError`s whose message starts with `line N:` (line 1 is the header); the CLI and the S3 job
write nothing for a refused file. Pure Python: the S3 job reads files in a Lambda without pandas.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from commerce_ai.clock import EARLIEST_YEAR
from commerce_ai.forecasting.contract import SKU_ID

SINGLE = ("date", "sales")
MULTI_REQUIRED = ("date", "sku", "units")
MULTI_OPTIONAL = ("price", "promo")
SINGLE_SKU = "series"
STEP_DAYS = {"D": 1, "W": 7}


class SalesFileError(ValueError):
    """A sales file that cannot be forecast, with the line at fault in the message."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


@dataclass
class SalesSeries:
    sku: str
    dates: list[date] = field(default_factory=list)
    units: list[float] = field(default_factory=list)
    price: list[float] = field(default_factory=list)
    promo: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class SalesFile:
    freq: str
    series: dict[str, SalesSeries]


def _number(text: str, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SalesFileError(line, f"{column} {text.strip()[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise SalesFileError(line, f"{column} {text.strip()[:40]!r} is not a finite number")
    return value


def _date(text: str, line: int) -> date:
    try:
        day = date.fromisoformat(text.strip())
        if day.year < EARLIEST_YEAR:  # sorts after modern dates as text (commerce_ai.clock.four_digit_year)
            raise ValueError("year has fewer than four digits")
        return day
    except ValueError:
        raise SalesFileError(line, f"date {text.strip()[:40]!r} is not a YYYY-MM-DD date") from None


def read_sales(text: str, freq: str | None = None, min_history: int = 24) -> SalesFile:
    """Parse and check a whole sales file (see the module docstring)."""
    if freq is not None and freq not in STEP_DAYS:
        raise ValueError(f"frequency must be D or W, not {freq!r}")
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(rows, [])]
    single = header == list(SINGLE)
    if not single:
        unknown = [h for h in header if h not in (*MULTI_REQUIRED, *MULTI_OPTIONAL)]
        if any(h not in header for h in MULTI_REQUIRED) or unknown or len(set(header)) != len(header):
            raise SalesFileError(
                1,
                f"header {','.join(header)[:120]!r} is neither 'date,sales' nor 'date,sku,units' with optional "
                "'price' and 'promo' columns",
            )
    column = {name: i for i, name in enumerate(header)}
    found: dict[str, SalesSeries] = {}
    for line, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SalesFileError(line, f"{len(row)} fields where the header has {len(header)}")
        day = _date(row[column["date"]], line)
        sku = SINGLE_SKU if single else row[column["sku"]].strip()
        if not single and not re.fullmatch(SKU_ID, sku):  # a path segment of GET /forecasts/{sku} (api_fields)
            raise SalesFileError(
                line, "sku must be 1-128 letters, digits and . _ : -, starting with a letter or digit (a path segment)"
            )
        name = "sales" if single else "units"
        units = _number(row[column[name]], line, name)
        if units < 0:
            raise SalesFileError(line, f"{name} {units:g} is negative")
        price = _number(row[column["price"]], line, "price") if "price" in column else 1.0
        if price <= 0:
            raise SalesFileError(line, f"price {price:g} is not positive")
        promo = _number(row[column["promo"]], line, "promo") if "promo" in column else 0.0
        if not 0.0 <= promo <= 1.0:
            raise SalesFileError(line, f"promo {promo:g} is not between 0 and 1")
        series = found.setdefault(sku, SalesSeries(sku))
        series.dates.append(day)
        series.units.append(units)
        series.price.append(price)
        series.promo.append(promo)
        series.lines.append(line)
    if not found:
        raise SalesFileError(1, "the file has a header but no rows")
    for series in found.values():
        _sort(series)
    chosen = freq or _infer(next(iter(found.values())))
    for series in found.values():
        _check_grid(series, chosen, min_history)
    return SalesFile(freq=chosen, series=found)


def _sort(series: SalesSeries) -> None:
    order = sorted(range(len(series.dates)), key=lambda i: (series.dates[i], series.lines[i]))
    for name in ("dates", "units", "price", "promo", "lines"):
        values = getattr(series, name)
        setattr(series, name, [values[i] for i in order])


def _infer(series: SalesSeries) -> str:
    gaps = [(b - a).days for a, b in zip(series.dates, series.dates[1:], strict=False) if b != a]
    return "W" if gaps and min(gaps) >= 7 else "D"


def _check_grid(series: SalesSeries, freq: str, min_history: int) -> None:
    step = timedelta(days=STEP_DAYS[freq])
    label = "" if series.sku == SINGLE_SKU else f" of sku {series.sku}"
    for i in range(1, len(series.dates)):
        before, now, line = series.dates[i - 1], series.dates[i], series.lines[i]
        if now == before:
            raise SalesFileError(line, f"date {now} appears twice{label} (also line {series.lines[i - 1]})")
        if now - before != step:
            if (now - before).days % STEP_DAYS[freq] == 0:
                missing = before + step
                raise SalesFileError(line, f"missing date(s){label}: {missing} to {now - step} ({freq} frequency)")
            raise SalesFileError(line, f"date {now}{label} is off the {freq} grid that {before} is on")
    if len(series.dates) < min_history:
        raise SalesFileError(
            series.lines[-1],
            f"too little history{label}: {len(series.dates)} periods, at least {min_history} are needed",
        )


def write_forecast_csv(dates: list[date], quantiles: list[tuple[float, float, float]], sku: str | None = None) -> str:
    """`date,p10,p50,p90` (with `sku` first for several series), units to 2 decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if sku is None:
        writer.writerow(["date", "p10", "p50", "p90"])
    for day, (p10, p50, p90) in zip(dates, quantiles, strict=True):
        cells = [day.isoformat(), f"{p10:.2f}", f"{p50:.2f}", f"{p90:.2f}"]
        writer.writerow(cells if sku is None else [sku, *cells])
    return out.getvalue()


def future_dates(last: date, freq: str, periods: int) -> list[date]:
    step = timedelta(days=STEP_DAYS[freq])
    return [last + step * (i + 1) for i in range(periods)]

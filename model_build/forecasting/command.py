"""`commerce-ai forecast FILE --periods N [--freq D|W] --out forecast.csv [--plot forecast.png]`: the seed's
example in one line, offline (no stack). The file is checked whole first (`commerce_ai.forecasting.
sales_csv`: an error names its line and nothing is written); the model is fitted on the file itself
(`own_sales`); outputs are written to temporary files and renamed into place, so a failure leaves none.
`--plot` draws with matplotlib when it is installed (the `study` extra), else with the built-in PNG chart
that `GET /forecasts/{sku}/plot` serves (lines and band, no text)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from commerce_ai.forecasting.chart import forecast_png
from commerce_ai.forecasting.sales_csv import SalesFileError
from model_build.forecasting.own_sales import MAX_PERIODS, FileForecast, forecast_csv, forecast_text, is_single


def run(path: Path, periods: int, freq: str | None, out: Path, plot: Path | None) -> int:
    if not 1 <= periods <= MAX_PERIODS:
        print(f"commerce-ai forecast: --periods must be 1-{MAX_PERIODS}", file=sys.stderr)
        return 2
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"commerce-ai forecast: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        chosen_freq, forecasts = forecast_text(text, periods, freq)
    except SalesFileError as exc:
        print(f"commerce-ai forecast: {path.name}: {exc}", file=sys.stderr)
        return 2
    single = is_single(forecasts)
    png = _plot(forecasts[0]) if plot is not None else None
    _write_atomically(out, forecast_csv(forecasts).encode())
    if plot is not None and png is not None:
        _write_atomically(plot, png)
    shown = "the first series" if not single else "the series"
    print(
        f"forecast {len(forecasts)} series x {periods} periods ({chosen_freq}) -> {out}"
        + (f"; plot of {shown} -> {plot}" if plot is not None else "")
    )
    return 0


def _plot(forecast: FileForecast) -> bytes:
    try:
        import matplotlib
    except ImportError:  # the study extra is not installed: the serving chart, which needs nothing
        p10, p50, p90 = (list(v) for v in zip(*forecast.quantiles, strict=True))
        return forecast_png(forecast.history, p10, p50, p90)
    import io

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    try:
        past = np.asarray(forecast.history_dates, dtype="datetime64[D]")
        future = np.asarray(forecast.dates, dtype="datetime64[D]")
        bands = np.asarray(forecast.quantiles, dtype=float)
        ax.plot(past, forecast.history, color="black", linewidth=0.9, label="history")
        ax.fill_between(future, bands[:, 0], bands[:, 2], color="tab:blue", alpha=0.3, label="p10-p90")
        ax.plot(future, bands[:, 1], color="tab:blue", label="p50")
        ax.set_title(forecast.sku if forecast.sku != "series" else "forecast")
        ax.legend()
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

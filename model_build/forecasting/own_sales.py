"""Forecast a user's own sales file: the served recipe (global LightGBM per quantile, conformal band) fitted
on the file itself, daily or weekly, one or many series. One code path for the CLI (`commerce-ai forecast`)
and a file uploaded under `uploads/forecasts/` (ForecastUploadFunction): `forecast_text` checks the whole
file (a `SalesFileError` names the line) and forecasts it, `forecast_csv` writes the result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from commerce_ai.forecasting.features import LAGS, Series, season_of
from commerce_ai.forecasting.sales_csv import SINGLE_SKU, SalesFile, future_dates, read_sales, write_forecast_csv
from commerce_ai.forecasting.sales_uploads import ForecastOutputs

MIN_HISTORY = 3 * LAGS
MAX_PERIODS = 366


@dataclass(frozen=True)
class FileForecast:
    sku: str
    history_dates: list[date]
    history: list[float]
    dates: list[date]
    quantiles: list[tuple[float, float, float]]


def to_series(sales: SalesFile, periods: int) -> dict[str, Series]:
    """Each series with its covariates carried `periods` on: the last price, no promotion (planned)."""
    out = {}
    for sku, s in sales.series.items():
        dates = [*s.dates, *future_dates(s.dates[-1], sales.freq, periods)]
        out[sku] = Series(
            dates=np.asarray(dates, dtype="datetime64[D]"),
            units=np.asarray(s.units, dtype=float),
            price=np.asarray([*s.price, *[s.price[-1]] * periods], dtype=float),
            promo=np.asarray([*s.promo, *[0.0] * periods], dtype=float),
            feature=np.zeros(len(dates)),
        )
    return out


def forecast_file(sales: SalesFile, periods: int) -> list[FileForecast]:
    import lightgbm as lgb

    from commerce_ai.forecasting.features import FEATURE_NAMES, QUANTILES
    from commerce_ai.forecasting.model import ForecastModel
    from model_build.forecasting import global_model
    from model_build.forecasting.conformal import calibrate, cut_series

    season = season_of(sales.freq)
    series = to_series(sales, periods)
    shortest = min(s.observed for s in series.values())
    window = max(1, min(periods, shortest // 4))
    fitted_on = [cut_series(s, s.observed - window, periods) for s in series.values()]
    x, y = global_model.training_rows(fitted_on, periods, season)
    leaf = int(max(5, min(100, len(y) // 200)))
    boosters = {
        q: lgb.train(
            {**global_model.PARAMS, "objective": "quantile", "alpha": q, "min_data_in_leaf": leaf, "num_threads": 1},
            lgb.Dataset(x, y, feature_name=list(FEATURE_NAMES), params={"max_bin": global_model.PARAMS["max_bin"]}),
            num_boost_round=global_model.ROUNDS,
        )
        for q in QUANTILES
    }
    booster = global_model.QuantileModel(boosters, season)
    calibration = calibrate(
        booster.predict_relative, list(series.values()), window, periods, season, sales.freq, every_origin=True
    )
    model = ForecastModel(booster.predict_relative, calibration)
    quantiles = model.forecast(list(series.values()), periods)
    out = []
    for (sku, s), q in zip(sales.series.items(), quantiles, strict=True):
        out.append(
            FileForecast(
                sku=sku,
                history_dates=s.dates,
                history=s.units,
                dates=future_dates(s.dates[-1], sales.freq, periods),
                quantiles=[(float(a), float(b), float(c)) for a, b, c in q],
            )
        )
    return out


def min_history(periods: int) -> int:
    """Periods of history a series needs: enough lags, and half the horizon more for long horizons."""
    return max(MIN_HISTORY, periods + MIN_HISTORY // 2)


def forecast_text(text: str, periods: int, freq: str | None = None) -> tuple[str, list[FileForecast]]:
    """(the frequency, each series' forecast) for a whole sales file; SalesFileError (line named) or
    ValueError (periods, freq) before anything is fitted."""
    if not 1 <= periods <= MAX_PERIODS:
        raise ValueError(f"periods must be 1-{MAX_PERIODS}, not {periods}")
    sales = read_sales(text, freq=freq, min_history=min_history(periods))
    return sales.freq, forecast_file(sales, periods)


def is_single(forecasts: list[FileForecast]) -> bool:
    return len(forecasts) == 1 and forecasts[0].sku == SINGLE_SKU


def forecast_csv(forecasts: list[FileForecast]) -> str:
    """`date,p10,p50,p90` for one `date,sales` series, `sku,date,p10,p50,p90` for several."""
    single = is_single(forecasts)
    text = "" if single else "sku,date,p10,p50,p90\n"
    for f in forecasts:
        text += write_forecast_csv(f.dates, f.quantiles, sku=None if single else f.sku)
    return text


def upload_outputs(text: str, periods: int, freq: str | None) -> ForecastOutputs:
    """What a file uploaded under `uploads/forecasts/` gets (`commerce_ai.forecasting.sales_uploads`): the
    CLI's CSV, and the built-in PNG chart of its first series (the image has no matplotlib)."""
    from commerce_ai.forecasting.chart import forecast_png

    chosen, forecasts = forecast_text(text, periods, freq)
    first = forecasts[0]
    p10, p50, p90 = (list(v) for v in zip(*first.quantiles, strict=True))
    return ForecastOutputs(
        freq=chosen,
        series=len(forecasts),
        plotted=first.sku,
        csv=forecast_csv(forecasts),
        png=forecast_png(first.history, p10, p50, p90),
    )

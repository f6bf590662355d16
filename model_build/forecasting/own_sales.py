"""Forecast a user's own sales file (the CLI's `commerce-ai forecast`): the served recipe (global LightGBM
per quantile, conformal band) fitted on the file itself, daily or weekly, one or many series."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from commerce_ai.forecasting.features import LAGS, Series, season_of
from commerce_ai.forecasting.sales_csv import SalesFile, future_dates

MIN_HISTORY = 3 * LAGS


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

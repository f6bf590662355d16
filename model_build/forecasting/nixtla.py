"""Nixtla's mlforecast on the protocol: the open-source bar the issue names for a global ML forecaster.

mlforecast (`study` extra; it adds optuna and SQLAlchemy, no compiled stack of its own) with the same
learner as the served model, LightGBM (100 rounds, 31 leaves, one thread), fitted at each origin on every
SKU's log1p units (gaps linearly interpolated: mlforecast's lags are by position, so a series has to be
gapless, as for AutoETS), in its own idiom: lags 1-4, 8 and 52, an 8-week rolling mean of lag 1, month and
day-of-year features, log price, deal and feature flags as dynamic features known for the forecast weeks,
recursive multi-step forecasts, and its conformal prediction intervals (`PredictionIntervals`, 2 windows of
8 weeks: two more fits per origin) at 80% for p10/p90; the point forecast is p50. What differs from the
served model is mlforecast's recipe (recursive, L2 on log1p, conformal bands from its own windows), not the
learner.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model_build.forecasting.baselines import filled_log, seasonal_naive_one
from model_build.forecasting.data import SkuSeries

MIN_WEEKS = 40  # its conformal windows need 2 x 8 weeks after the lags a series can use


def _frames(seen: list[SkuSeries], horizons: int) -> tuple[pd.DataFrame, pd.DataFrame, list[SkuSeries]]:
    history, future, used = [], [], []
    for s in seen:
        x = s.series
        n = x.observed
        if np.count_nonzero(~np.isnan(x.units)) < MIN_WEEKS:
            continue
        y = filled_log(x.units)
        start = n - len(y)
        covariates = {"price": np.log(x.price), "deal": x.promo, "feat": x.feature}
        history.append(
            pd.DataFrame(
                {"unique_id": s.sku, "ds": pd.to_datetime(x.dates[start:n]), "y": y}
                | {k: v[start:n] for k, v in covariates.items()}
            )
        )
        future.append(
            pd.DataFrame(
                {"unique_id": s.sku, "ds": pd.to_datetime(x.dates[n : n + horizons])}
                | {k: v[n : n + horizons] for k, v in covariates.items()}
            )
        )
        used.append(s)
    return pd.concat(history, ignore_index=True), pd.concat(future, ignore_index=True), used


def mlforecast_lightgbm(seen: list[SkuSeries], _origin: int, horizons: int = 8) -> np.ndarray:
    import lightgbm as lgb
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean
    from mlforecast.utils import PredictionIntervals

    history, future, used = _frames(seen, horizons)
    weekday = pd.Timestamp(history["ds"].iloc[0]).day_name()[:3].upper()
    model = lgb.LGBMRegressor(
        n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=100, n_jobs=1, verbose=-1, seed=7
    )
    forecaster = MLForecast(
        models={"lgbm": model},
        freq=f"W-{weekday}",
        lags=[1, 2, 3, 4, 8, 52],
        lag_transforms={1: [RollingMean(window_size=8)]},
        date_features=["month", "dayofyear"],
        num_threads=1,
    )
    forecaster.fit(
        history, static_features=[], prediction_intervals=PredictionIntervals(n_windows=2, h=horizons), dropna=False
    )
    predicted = forecaster.predict(h=horizons, X_df=future, level=[80])
    predicted = predicted.set_index("unique_id")
    out = {}
    for s in used:
        rows = predicted.loc[[s.sku]]
        bands = rows[["lgbm-lo-80", "lgbm", "lgbm-hi-80"]].to_numpy(dtype=float)
        out[s.sku] = np.sort(np.clip(np.expm1(bands), 0.0, None), axis=1)
    # the few SKUs too short for its windows: seasonal naive, said in the report
    return np.stack([out.get(s.sku, seasonal_naive_one(s.series, horizons, 52)) for s in seen])

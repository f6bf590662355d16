"""The global LightGBM quantile model: one booster per quantile over every series' (origin, horizon) rows.

Direct multi-horizon: a row's horizon is a feature, so the model needs no recursion and serving is one
batch of `horizons` rows per SKU. Features are `commerce_ai.forecasting.features` (serving's code path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from commerce_ai.forecasting.features import FEATURE_NAMES, LAGS, QUANTILES, Series, feature_rows, level_of, to_units

PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_bin": 63,
    "num_leaves": 31,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.7,
    "bagging_freq": 1,
    "verbose": -1,
    "num_threads": 1,  # OpenMP threads spin when the 2 cores are shared: one thread is steadier here
    "seed": 7,
}
ROUNDS = 100


def training_rows(
    series: list[Series], horizons: int, season: int, stride: int = 1, min_origin: int = LAGS - 1
) -> tuple[np.ndarray, np.ndarray]:
    """Every (origin, horizon) of every series whose target period was observed: X and the relative target."""
    xs, ys = [], []
    for s in series:
        n = s.observed
        origins = np.arange(min(min_origin, n - 1), n - 1, stride)
        if len(origins) == 0:
            continue
        o = np.repeat(origins, horizons)
        h = np.tile(np.arange(1, horizons + 1), len(origins))
        keep = o + h < n
        o, h = o[keep], h[keep]
        z = np.log1p(s.units[o + h])
        keep = ~np.isnan(z)
        o, h, z = o[keep], h[keep], z[keep]
        if len(o) == 0:
            continue
        xs.append(feature_rows(s, o, h, season))
        ys.append(z - level_of(s, o))
    return np.vstack(xs), np.concatenate(ys)


@dataclass
class QuantileModel:
    boosters: dict[float, Any]
    season: int

    def predict_relative(self, x: np.ndarray) -> np.ndarray:
        # One thread, as in training: on small batches OpenMP's threads spin on the shared cores (5x slower
        # per call measured here, at a load average of 15).
        return np.column_stack([self.boosters[q].predict(x, num_threads=1) for q in QUANTILES])

    def forecast(self, series: list[Series], horizons: int) -> np.ndarray:
        """(n_series, horizons, 3) units: p10, p50, p90 for periods observed+1 .. observed+horizons."""
        return forecast_with(self.predict_relative, series, horizons, self.season)


def forecast_with(predict: Any, series: list[Series], horizons: int, season: int) -> np.ndarray:
    """Run `predict` (rows -> relative quantiles) for each series at its last observed period."""
    rows, levels = [], []
    for s in series:
        origin = np.full(horizons, s.observed - 1)
        rows.append(feature_rows(s, origin, np.arange(1, horizons + 1), season))
        levels.append(level_of(s, origin))
    x = np.vstack(rows)
    units = to_units(predict(x), np.concatenate(levels))
    return units.reshape(len(series), horizons, len(QUANTILES))


def fit(x: np.ndarray, y: np.ndarray, season: int, rounds: int = ROUNDS) -> QuantileModel:
    import lightgbm as lgb

    boosters = {}
    for q in QUANTILES:
        data = lgb.Dataset(x, y, feature_name=list(FEATURE_NAMES), params={"max_bin": PARAMS["max_bin"]})
        boosters[q] = lgb.train({**PARAMS, "objective": "quantile", "alpha": q}, data, num_boost_round=rounds)
    return QuantileModel(boosters=boosters, season=season)


CALIBRATION_WINDOW = 8


def train_served(series: list[Series], horizons: int, season: int, freq: str, stride: int = 3) -> Any:
    """The served recipe: boosters fitted on all but the last `CALIBRATION_WINDOW` periods of each series,
    then conformal offsets from forecasting those periods (so the band is judged on weeks it never saw).
    Returns a `commerce_ai.forecasting.model.ForecastModel` over the native boosters and the QuantileModel."""
    from commerce_ai.forecasting.model import ForecastModel
    from model_build.forecasting.conformal import calibrate, cut_series

    window = CALIBRATION_WINDOW
    fitted_on = [cut_series(s, s.observed - window, horizons) for s in series if s.observed > window + 1]
    x, y = training_rows(fitted_on, horizons, season, stride=stride)
    model = fit(x, y, season)
    calibration = calibrate(model.predict_relative, series, window, horizons, season, freq)
    return ForecastModel(model.predict_relative, calibration), model, len(y)

"""The forecast features: one code path for training (model_build.forecasting) and serving.

A series lives on a regular grid (weeks or days) as arrays of the same length: `units` (NaN where
nothing was recorded), `price`, `promo` and `feature` (the known, planned covariates, filled for every
period, the forecast periods included) and `dates` (numpy datetime64[D]). A row of the model is one
series at one *origin* t (its last observed period) and one *horizon* h: the model predicts
log1p(units[t + h]) minus the series' recent level, so one global model serves every series whatever its
scale, and a quantile of the log is the log of the quantile (the transform keeps p10/p50/p90 in order).

Future prices and promotions are features: the forecast assumes they are known (planned) in advance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


LAGS = 8  # recent periods seen at the origin, and the window of the level
FEATURE_NAMES: tuple[str, ...] = (
    "horizon",
    *(f"lag_{k}" for k in range(LAGS)),
    "level",
    "recent_std",
    "missing_recent",
    "seasonal_lag",
    "seasonal_known",
    "log_price_ratio",
    "log_price_change",
    "promo",
    "feature",
    "promo_at_origin",
    "year_sin",
    "year_cos",
    "weekday",
)
QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Series:
    """One series on a regular grid; covariates extend past the last unit for the forecast periods."""

    dates: np.ndarray  # datetime64[D], len n_total
    units: np.ndarray  # float, len n_obs <= n_total (NaN where missing)
    price: np.ndarray  # float, len n_total
    promo: np.ndarray  # float in [0, 1], len n_total
    feature: np.ndarray  # float in [0, 1], len n_total

    @property
    def observed(self) -> int:
        return len(self.units)


def season_of(freq: str) -> int:
    """The seasonal period in grid steps: a year of weeks, or a week of days."""
    return 52 if freq == "W" else 7


def _window(values: np.ndarray, origins: np.ndarray, width: int) -> np.ndarray:
    """values[t - width + 1 .. t] for each origin t (NaN before the start): shape (len(origins), width)."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    idx = origins[:, None] - np.arange(width)[None, :]
    padded = np.where(idx >= 0, values[np.clip(idx, 0, None)], np.nan)
    return padded


def feature_rows(series: Series, origins: np.ndarray, horizons: np.ndarray, season: int) -> np.ndarray:
    """The model's rows (float32, columns FEATURE_NAMES) for each (origin, horizon) pair of equal length.

    Needs: origin < series.observed and origin + horizon < len(series.dates) (its covariates are known).
    """
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    origins = np.asarray(origins, dtype=np.int64)
    horizons = np.asarray(horizons, dtype=np.int64)
    target = origins + horizons
    z = np.log1p(np.asarray(series.units, dtype=float))
    recent = _window(z, origins, LAGS)  # [:, 0] is the origin itself
    level = _level(z, recent, origins)
    lags = np.where(np.isnan(recent), 0.0, recent - level[:, None])
    with np.errstate(invalid="ignore"):
        std = np.nan_to_num(np.nanstd(recent, axis=1), nan=0.0)
    missing = np.isnan(recent).sum(axis=1).astype(float)
    seasonal_index = target - season
    seasonal_known = (seasonal_index >= 0) & (seasonal_index < len(z))
    seasonal_value = np.where(seasonal_known, z[np.clip(seasonal_index, 0, len(z) - 1)], np.nan)
    seasonal_known &= ~np.isnan(seasonal_value)
    seasonal_lag = np.where(seasonal_known, seasonal_value - level, 0.0)
    price = np.asarray(series.price, dtype=float)
    recent_price = _window(price, origins, LAGS)
    with np.errstate(invalid="ignore"):
        mean_price = np.nanmean(recent_price, axis=1)
    log_price_ratio = np.log(price[target] / mean_price)
    log_price_change = np.log(price[target] / price[origins])
    dates = series.dates[target]
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(int).astype(float)
    angle = 2.0 * np.pi * day_of_year / 365.25
    weekday = ((dates.astype("datetime64[D]").astype(np.int64) + 3) % 7).astype(float)  # Monday = 0
    columns = [
        horizons.astype(float),
        *(lags[:, k] for k in range(LAGS)),
        level,
        std,
        missing,
        seasonal_lag,
        seasonal_known.astype(float),
        np.nan_to_num(log_price_ratio),
        np.nan_to_num(log_price_change),
        np.asarray(series.promo, dtype=float)[target],
        np.asarray(series.feature, dtype=float)[target],
        np.asarray(series.promo, dtype=float)[origins],
        np.sin(angle),
        np.cos(angle),
        weekday,
    ]
    return np.column_stack(columns).astype(np.float32)


def _level(z: np.ndarray, recent: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """Mean log1p units over the last LAGS periods; when all of them are missing, over the whole past."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    with np.errstate(invalid="ignore"):
        level = np.nanmean(recent, axis=1)
    if np.isnan(level).any():
        csum = np.nancumsum(z)
        count = np.cumsum(~np.isnan(z))
        fallback = csum[origins] / np.maximum(count[origins], 1)
        level = np.where(np.isnan(level), fallback, level)
    return level


def level_of(series: Series, origins: np.ndarray) -> np.ndarray:
    """The level the model's target is relative to (add it back to a prediction, then expm1)."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    z = np.log1p(np.asarray(series.units, dtype=float))
    origins = np.asarray(origins, dtype=np.int64)
    return _level(z, _window(z, origins, LAGS), origins)


def to_units(relative: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Model outputs (relative log1p units; rows x quantiles) to units >= 0, with quantiles in order."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    units = np.expm1(np.asarray(relative, dtype=float) + np.asarray(level, dtype=float)[:, None])
    return np.sort(np.clip(units, 0.0, None), axis=1)

"""Baselines on the protocol: seasonal naive (the fast floor), and the models the issue names that need
the `study` extra: AutoETS (statsforecast) and Prophet alone."""

from __future__ import annotations

import numpy as np

from commerce_ai.forecasting.features import QUANTILES, Series, season_of
from model_build.forecasting.data import SkuSeries


def seasonal_naive_one(s: Series, horizons: int, season: int) -> np.ndarray:
    """(horizons, 3): the value one season back (else the last observed one) for the median, and the
    series' own 10th/90th percentiles of log ratios of that rule for the band."""
    z = np.log1p(s.units)
    n = len(z)
    observed = z[~np.isnan(z)]
    last = observed[-1] if len(observed) else 0.0
    median = []
    for h in range(1, horizons + 1):
        back = n - 1 + h - season
        median.append(z[back] if 0 <= back < n and not np.isnan(z[back]) else last)
    # in-sample errors of the same rule, for a band
    idx = np.arange(season, n)
    errors = z[idx] - z[idx - season] if len(idx) else np.array([])
    errors = errors[~np.isnan(errors)]
    if len(errors) < 8:
        diffs = np.diff(observed)
        errors = diffs if len(diffs) else np.zeros(1)
    lo, hi = np.quantile(errors, [QUANTILES[0], QUANTILES[-1]])
    med = np.asarray(median)
    bands = np.column_stack([med + min(lo, 0.0), med, med + max(hi, 0.0)])
    return np.clip(np.expm1(bands), 0.0, None)


def seasonal_naive(seen: list[SkuSeries], _origin: int, horizons: int = 8) -> np.ndarray:
    return np.stack([seasonal_naive_one(s.series, horizons, season_of("W")) for s in seen])


def filled_log(units: np.ndarray) -> np.ndarray:
    """log1p units with gaps linearly interpolated (ETS needs a gapless series)."""
    z = np.log1p(units)
    idx = np.arange(len(z))
    ok = ~np.isnan(z)
    first = int(np.argmax(ok))
    return np.interp(idx[first:], idx[ok], z[ok])


def auto_ets(seen: list[SkuSeries], _origin: int, horizons: int = 8) -> np.ndarray:
    """statsforecast AutoETS per series on log1p units (gaps interpolated), non-seasonal: at most 121 weeks
    is barely two years, too short for a 52-week seasonal state. Band: its 80% prediction interval."""
    from statsforecast.models import AutoETS

    out = []
    for s in seen:
        y = filled_log(s.series.units)
        if len(y) < 10:
            out.append(seasonal_naive_one(s.series, horizons, 52))
            continue
        fitted = AutoETS(season_length=1).forecast(y=y, h=horizons, level=[80])
        bands = np.column_stack([fitted["lo-80"], fitted["mean"], fitted["hi-80"]])
        out.append(np.sort(np.clip(np.expm1(bands), 0.0, None), axis=1))
    return np.stack(out)

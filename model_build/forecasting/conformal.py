"""Conformalized quantile regression on a held-out window (Romano et al. 2019): the offset per horizon
that makes the p10-p90 band cover 80% of the window's periods, in the model's relative log space.

The boosters are fitted on each series up to `window` periods before its end; every origin from there on
forecasts the periods left in the window, and each (origin, horizon) cell scores max(p10 - y, y - p90).
A horizon with fewer than `MIN_SCORES` cells (one short series) takes the offset pooled over horizons.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from commerce_ai.forecasting.features import LAGS, Series, feature_rows, level_of
from commerce_ai.forecasting.model import Calibration

COVERAGE = 0.8
MIN_SCORES = 20


def cut_series(s: Series, observed: int, horizons: int) -> Series:
    total = min(len(s.dates), observed + horizons)
    return Series(s.dates[:total], s.units[:observed], s.price[:total], s.promo[:total], s.feature[:total])


def _quantile(values: np.ndarray) -> float:
    level = min(1.0, math.ceil((len(values) + 1) * COVERAGE) / len(values))
    return float(np.quantile(values, level))


def calibrate(
    predict: Callable[[np.ndarray], np.ndarray],
    full: list[Series],
    window: int,
    horizons: int,
    season: int,
    freq: str,
    every_origin: bool = False,
) -> Calibration:
    """Offsets from forecasting the last `window` observed periods of each series in `full` (from the
    window's first origin only, or from `every_origin` in it when series are few)."""
    scores: dict[int, list[float]] = {h: [] for h in range(1, horizons + 1)}
    for s in full:
        first = s.observed - 1 - window
        if first < LAGS - 1:
            continue
        for origin in range(first, s.observed - 1) if every_origin else [first]:
            steps = np.arange(1, min(horizons, s.observed - 1 - origin) + 1)
            o = np.full(len(steps), origin)
            z = np.log1p(s.units[origin + steps])
            seen = cut_series(s, origin + 1, horizons)
            relative = predict(feature_rows(seen, o, steps, season)) + level_of(seen, o)[:, None]
            score = np.maximum(relative[:, 0] - z, z - relative[:, -1])
            for h, e in zip(steps, score, strict=True):
                if not np.isnan(e):
                    scores[int(h)].append(float(e))
    pooled = np.asarray([e for values in scores.values() for e in values], dtype=float)
    fallback = _quantile(pooled) if len(pooled) else 0.0
    offsets = [
        _quantile(np.asarray(scores[h])) if len(scores[h]) >= MIN_SCORES else fallback for h in range(1, horizons + 1)
    ]
    return Calibration(offsets=offsets, season=season, freq=freq)

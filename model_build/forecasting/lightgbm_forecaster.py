"""The global LightGBM quantile model as protocol forecasters, refitted at each origin on every SKU's
history up to it (rows every other origin week, to keep the study's fits short): the served recipe
(boosters on all but the last 8 weeks + conformal offsets from those 8 weeks), and the same boosters
without the offsets (quantile objectives alone)."""

from __future__ import annotations

from typing import Any

import numpy as np

from commerce_ai.forecasting.features import season_of
from model_build.forecasting import global_model
from model_build.forecasting.data import SkuSeries


class LightGbmStudy:
    """One fit per origin, scored twice: with and without the conformal offsets."""

    def __init__(self, horizons: int = 8) -> None:
        self.horizons = horizons
        self.raw: dict[int, np.ndarray] = {}
        self.models: dict[int, Any] = {}  # origin -> the served ForecastModel fitted there

    def conformal(self, seen: list[SkuSeries], origin: int) -> np.ndarray:
        season = season_of("W")
        served, booster, _ = global_model.train_served([s.series for s in seen], self.horizons, season, "W")
        self.models[origin] = served
        self.raw[origin] = booster.forecast([s.series for s in seen], self.horizons)
        return np.asarray(served.forecast([s.series for s in seen], self.horizons))

    def quantile_only(self, _seen: list[SkuSeries], origin: int) -> np.ndarray:
        return self.raw[origin]

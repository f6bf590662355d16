"""Prophet alone and the Prophet + LightGBM hybrid, for `make eval` only (prophet is in the `study` extra:
its stack, about 285 MB, fits no zip function, and at 0.1-1 s per series fit it does not fit a 60-second
build either).

Where a fit's time goes (measured on OJ, load average 5): cmdstan's optimisation is nearly all of it. Prophet
picks Newton for fewer than 100 observations, which OJ's SKUs have at week 136 (97 weeks): 0.9 s a fit
there, against 0.1 s with L-BFGS at week 152 (0.33 s at week 144, a mix of both). Forcing L-BFGS at week 136
stops at a lower log posterior on most series (a weaker Prophet), and Newton started from L-BFGS's optimum
is no faster, so neither is used. The prediction with 100 uncertainty samples over the SKU's grid takes
0.08 s (0.04 s without them) and the data frames 0.006 s, so Prophet keeps its own interval. What the study
does instead: fits run in `workers` processes, and are saved in batches so a stopped study resumes.

Prophet: per series, multiplicative seasonality (yearly; weekly data has no weekly cycle), price, deal
and feature as multiplicative regressors, band = its 80% interval (100 uncertainty samples).
The hybrid: the same Prophet fit per series for trend, seasonality and the regressors, then one global
LightGBM per quantile on Prophet's log residuals, log1p(y) - log1p(prophet), with the usual features
(lags, calendar, price, promotion) plus Prophet's own forecast relative to the series' level and the
brand's recent level across its other stores (the related series). In-sample Prophet fits give the
training residuals (so they are optimistic; the rolling origins judge the result out of sample).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.forecasting.features import FEATURE_NAMES, LAGS, QUANTILES, feature_rows, level_of, season_of
from model_build.forecasting.data import SkuSeries
from model_build.forecasting.global_model import PARAMS, ROUNDS


class ProphetStudy:
    """Prophet fits cached per (SKU, origin): Prophet alone and the hybrid share them. With `workers` > 1 the
    missing fits of an origin run in that many processes (each fit is independent; `make eval` uses 2, the
    machine's cores); `fit_seconds` is the sum of the fits' own times, whichever process ran them."""

    def __init__(self, horizons: int = 8, workers: int = 1, batch: int = 100) -> None:
        self.horizons = horizons
        self.workers = workers
        self.batch = batch  # fits between two calls of `on_batch`
        self.on_batch: Callable[[], None] | None = None  # e.g. save the study so far (not pickled)
        self.fits: dict[tuple[str, int], np.ndarray] = {}  # yhat, yhat_lower, yhat_upper over the grid
        self.fit_seconds = 0.0
        self.fit_count = 0
        self.fit_wall = 0.0  # wall seconds spent fitting, over every run of a resumed study

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "on_batch": None}

    def fit_all(self, seen: list[SkuSeries], origin: int) -> None:
        """Fit every SKU of `seen` not fitted yet at `origin`, in `workers` processes, `batch` at a time
        (`on_batch` after each, so a long study can be saved and resumed)."""
        import time

        started = time.perf_counter()
        missing = [s for s in seen if (s.sku, origin) not in self.fits]
        batches = [missing[i : i + self.batch] for i in range(0, len(missing), self.batch)]
        if self.workers > 1 and len(missing) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: the parent has run LightGBM's OpenMP threads, which a forked child can inherit
            # in a locked state
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
                for batch in batches:
                    for s, (fitted, seconds) in zip(batch, pool.map(fit_prophet, batch), strict=True):
                        self._keep(s, origin, fitted, seconds)
                    self.fit_wall, started = self.fit_wall + time.perf_counter() - started, time.perf_counter()
                    if self.on_batch is not None:
                        self.on_batch()
        else:
            for batch in batches:
                for s in batch:
                    self._keep(s, origin, *fit_prophet(s))
                self.fit_wall, started = self.fit_wall + time.perf_counter() - started, time.perf_counter()
                if self.on_batch is not None and len(missing) > 1:
                    self.on_batch()

    def _keep(self, s: SkuSeries, origin: int, fitted: np.ndarray, seconds: float) -> None:
        self.fits[(s.sku, origin)] = fitted
        self.fit_seconds += seconds
        self.fit_count += 1

    def _prophet(self, s: SkuSeries, origin: int) -> np.ndarray:
        if (s.sku, origin) not in self.fits:
            self.fit_all([s], origin)
        return self.fits[(s.sku, origin)]

    def prophet(self, seen: list[SkuSeries], origin: int) -> np.ndarray:
        self.fit_all(seen, origin)
        out = []
        for s in seen:
            fitted = self._prophet(s, origin)
            n = s.series.observed
            future = fitted[n : n + self.horizons][:, [1, 0, 2]]
            out.append(np.sort(np.clip(future, 0.0, None), axis=1))
        return np.stack(out)

    def hybrid(self, seen: list[SkuSeries], origin: int) -> np.ndarray:
        import lightgbm as lgb

        self.fit_all(seen, origin)
        season = season_of("W")
        brand_level = _brand_levels(seen)
        xs, ys = [], []
        for s in seen:
            yhat = np.log1p(np.clip(self._prophet(s, origin)[:, 0], 0.0, None))
            n = s.series.observed
            origins = np.repeat(np.arange(LAGS - 1, n - 1, 2), self.horizons)
            horizons = np.tile(np.arange(1, self.horizons + 1), len(origins) // self.horizons)
            keep = origins + horizons < n
            origins, horizons = origins[keep], horizons[keep]
            z = np.log1p(s.series.units[origins + horizons])
            keep = ~np.isnan(z)
            origins, horizons, z = origins[keep], horizons[keep], z[keep]
            if len(origins):
                xs.append(_rows(s, origins, horizons, season, yhat, brand_level[s.brand]))
                ys.append(z - yhat[origins + horizons])
        x, y = np.vstack(xs), np.concatenate(ys)
        names = [*FEATURE_NAMES, "prophet_relative", "brand_level"]
        boosters = {
            q: lgb.train(
                {**PARAMS, "objective": "quantile", "alpha": q},
                lgb.Dataset(x, y, feature_name=names, params={"max_bin": PARAMS["max_bin"]}),
                num_boost_round=ROUNDS,
            )
            for q in QUANTILES
        }
        out = []
        steps = np.arange(1, self.horizons + 1)
        for s in seen:
            yhat = np.log1p(np.clip(self._prophet(s, origin)[:, 0], 0.0, None))
            n = s.series.observed
            o = np.full(self.horizons, n - 1)
            rows = _rows(s, o, steps, season, yhat, brand_level[s.brand])
            residual = np.column_stack([boosters[q].predict(rows) for q in QUANTILES])
            out.append(np.sort(np.clip(np.expm1(yhat[n - 1 + steps][:, None] + residual), 0.0, None), axis=1))
        return np.stack(out)


def fit_prophet(s: SkuSeries) -> tuple[np.ndarray, float]:
    """One Prophet fit on the SKU as seen at its origin: (yhat, yhat_lower, yhat_upper) over its whole grid
    (history and the forecast weeks, whose prices and promotions are known), and the fit's seconds."""
    import time

    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    started = time.perf_counter()
    x = s.series
    n = x.observed
    history = pd.DataFrame(
        {
            "ds": pd.to_datetime(x.dates[:n]),
            "y": x.units,
            "price": x.price[:n],
            "deal": x.promo[:n],
            "feat": x.feature[:n],
        }
    ).dropna()
    model = Prophet(
        seasonality_mode="multiplicative",
        yearly_seasonality=True,
        weekly_seasonality=False,
        daily_seasonality=False,
        uncertainty_samples=100,
        interval_width=0.8,
    )
    for column in ("price", "deal", "feat"):
        model.add_regressor(column, mode="multiplicative")
    model.fit(history)
    grid = pd.DataFrame({"ds": pd.to_datetime(x.dates), "price": x.price, "deal": x.promo, "feat": x.feature})
    predicted = model.predict(grid)
    fitted = predicted[["yhat", "yhat_lower", "yhat_upper"]].to_numpy(dtype=float)
    return fitted, time.perf_counter() - started


def _brand_levels(seen: list[SkuSeries]) -> dict[str, np.ndarray]:
    """Per brand, the mean over its stores of log1p units per grid week (the related series), aligned to
    the end of the grid (every SKU's grid ends at the same week)."""
    width = max(s.series.observed for s in seen)
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    for s in seen:
        z = np.full(width, np.nan)
        z[width - s.series.observed :] = np.log1p(s.series.units)
        sums.setdefault(s.brand, np.zeros(width))
        counts.setdefault(s.brand, np.zeros(width))
        sums[s.brand] += np.nan_to_num(z)
        counts[s.brand] += ~np.isnan(z)
    return {b: np.where(counts[b] > 0, sums[b] / np.maximum(counts[b], 1), np.nan) for b in sums}


def _rows(s: SkuSeries, origins: np.ndarray, horizons: np.ndarray, season: int, yhat: np.ndarray, brand: Any) -> Any:
    base = feature_rows(s.series, origins, horizons, season)
    level = level_of(s.series, origins)
    offset = len(brand) - s.series.observed
    brand_now = brand[origins + offset] - level
    return np.column_stack([base, yhat[origins + horizons] - level, np.nan_to_num(brand_now)]).astype(np.float32)

"""The evaluation protocol: rolling origin over the last 24 weeks of OJ, horizons 1-8.

Origins are weeks 136, 144 and 152 (the last week is 160): each model is refitted on everything up to an
origin and forecasts the next 8 weeks, whose prices, deals and feature flags count as known (planned).
The three windows tile the last 24 weeks. Every model is scored on the same (SKU, origin, horizon) cells:
those whose week has a recorded sale.

Metrics of the median: WAPE = sum |y - p50| / sum y, and MASE = mean over cells of |y - p50| / the SKU's
in-sample mean absolute one-week change up to the origin (the naive forecast's error; weekly OJ has too
little history for a yearly seasonal scale). Pinball loss of p10, p50 and p90 in units per cell, and
scaled by mean demand (sum of pinball / sum y). Coverage: the share of cells with p10 <= y <= p90 (target
80%). Aggregates: the brand (sum over its stores) and the chain (sum over everything) per origin and
week, scored on summed medians (quantiles do not add up, so bands are judged at the series level only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model_build.forecasting.data import SkuSeries, cut

HORIZONS = 8
LAST_WEEK = 160
ORIGINS: tuple[int, ...] = (136, 144, 152)

# A model: the SKUs as seen at an origin (units up to it, covariates 8 weeks on) -> (n, 8, 3) units.
Forecaster = Callable[[list[SkuSeries], int], np.ndarray]


@dataclass(frozen=True)
class Scored:
    name: str
    cells: pd.DataFrame  # sku, brand, origin, horizon, y, p10, p50, p90, scale
    seconds: float


def run(name: str, forecaster: Forecaster, everything: list[SkuSeries], origins: tuple[int, ...] = ORIGINS) -> Scored:
    import time

    started = time.perf_counter()
    frames = []
    for origin in origins:
        seen = [c for c in (cut(s, origin, HORIZONS) for s in everything) if c is not None and c.series.observed > 1]
        forecasts = forecaster(seen, origin)
        frames.append(_cells(seen, everything, origin, forecasts))
    return Scored(name=name, cells=pd.concat(frames, ignore_index=True), seconds=time.perf_counter() - started)


def _cells(seen: list[SkuSeries], everything: list[SkuSeries], origin: int, forecasts: np.ndarray) -> pd.DataFrame:
    full = {s.sku: s for s in everything}
    rows = []
    for i, s in enumerate(seen):
        units = full[s.sku].series.units
        at = s.series.observed - 1
        history = s.series.units
        diffs = np.abs(np.diff(history[~np.isnan(history)]))
        scale = float(diffs.mean()) if len(diffs) else np.nan
        for h in range(1, HORIZONS + 1):
            if at + h < len(units) and not np.isnan(units[at + h]):
                p10, p50, p90 = forecasts[i, h - 1]
                rows.append((s.sku, s.brand, origin, h, float(units[at + h]), p10, p50, p90, scale))
    return pd.DataFrame(rows, columns=["sku", "brand", "origin", "horizon", "y", "p10", "p50", "p90", "scale"])


def pinball(y: np.ndarray, q: np.ndarray, alpha: float) -> np.ndarray:
    diff = y - q
    return np.maximum(alpha * diff, (alpha - 1.0) * diff)


def series_metrics(cells: pd.DataFrame) -> dict[str, float]:
    y = cells["y"].to_numpy()
    err = np.abs(y - cells["p50"].to_numpy())
    losses = {a: pinball(y, cells[f"p{int(a * 100)}"].to_numpy(), a) for a in (0.1, 0.5, 0.9)}
    mean_loss = np.mean([losses[a].mean() for a in losses])
    scale = cells["scale"].to_numpy()
    ok = scale > 0
    return {
        "wape": float(err.sum() / y.sum()),
        "mase": float(np.mean(err[ok] / scale[ok])),
        "pinball_p10": float(losses[0.1].mean()),
        "pinball_p50": float(losses[0.5].mean()),
        "pinball_p90": float(losses[0.9].mean()),
        "pinball_mean": float(mean_loss),
        "scaled_pinball": float(mean_loss * len(y) / y.sum()),
        "coverage_80": float(np.mean((cells["p10"] <= y) & (y <= cells["p90"]))),
        "cells": float(len(y)),
    }


def aggregate_wape(cells: pd.DataFrame, by: list[str]) -> float:
    """WAPE of summed medians against summed actuals, per `by` + origin + horizon group."""
    grouped = cells.groupby([*by, "origin", "horizon"])[["y", "p50"]].sum()
    return float(np.abs(grouped["y"] - grouped["p50"]).sum() / grouped["y"].sum())


def summary(scored: Scored) -> dict[str, float]:
    out = series_metrics(scored.cells)
    out["brand_wape"] = aggregate_wape(scored.cells, ["brand"])
    out["chain_wape"] = aggregate_wape(scored.cells, [])
    out["seconds"] = scored.seconds
    return out


def by_horizon(scored: Scored) -> pd.DataFrame:
    return pd.DataFrame({h: series_metrics(g) for h, g in scored.cells.groupby("horizon")}).T

"""Forecasts of aggregates (a brand across its stores, the whole chain) from the series' quantiles.

Quantiles do not add up: the sum of the stores' p90 is the p90 of the brand only if every store's error is
perfectly correlated with every other's, and the sum of their p10 is then too low. So each model's series
forecasts are reconciled bottom-up through **sample paths** (the Schaake shuffle, Clark et al. 2004):

1. Each cell's distribution is the one its p10/p50/p90 describe: in log1p units a normal with the median
   at p50 and a different spread on each side (the p10 and the p90 are hit exactly, the tails beyond are
   the normal's), so it keeps the right skew of weekly sales.
2. The dependence between series comes from their history, not from the model: the K weeks up to the
   origin give each SKU a log deviation from its own trailing 8-week level. Path k takes, for every SKU,
   the quantile of its forecast at the rank its deviation had in historical week k among its K weeks. A
   chain-wide deal week, when every store sold above its level, becomes a path where every store draws
   high; a store's quiet week stays a draw of its own. No outcome after the origin is used.
3. A group's paths are summed over its SKUs' scored cells (the ones with a recorded sale, as for the
   series metrics), and their 10th/50th/90th percentiles are the aggregate's p10/p50/p90.

The same K historical weeks serve every horizon of an origin. MASE at an aggregate is scaled by the mean
absolute week-to-week change of the group's summed history up to the origin (each SKU's gaps linearly
interpolated, from the week all of the group's SKUs had started).
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from commerce_ai.forecasting.features import LAGS
from model_build.forecasting import protocol
from model_build.forecasting.data import SkuSeries

PATH_WEEKS = 80  # historical weeks (= sample paths) per origin: every SKU of OJ has 80 weeks before week 136
Z_90 = NormalDist().inv_cdf(0.9)
LEVELS: dict[str, list[str]] = {"brand (stores summed)": ["brand"], "chain (everything summed)": []}


Ranks = dict[tuple[str, int, int], np.ndarray]  # (sku, origin, weeks) -> its ranks, shared by every model


def deviation_ranks(
    everything: list[SkuSeries], origin: int, weeks: int = PATH_WEEKS, known: Ranks | None = None
) -> dict[str, np.ndarray]:
    """Per SKU, the rank (0..weeks-1) of each of the `weeks` weeks up to `origin` by its log deviation from
    the trailing 8-week level; a week without a sale (or before the SKU started) counts as no deviation.
    `known` keeps them across calls on the same SKUs: every model's reconciliation uses the same paths."""
    known = {} if known is None else known
    out = {}
    for s in everything:
        key = (s.sku, origin, weeks)
        if key not in known:
            known[key] = _ranks_of(s, origin, weeks)
        out[s.sku] = known[key]
    return out


def _ranks_of(s: SkuSeries, origin: int, weeks: int) -> np.ndarray:
    calendar = np.arange(origin - weeks + 1, origin + 1)
    z = np.log1p(s.series.units)
    deviation = np.zeros(weeks)
    for k, week in enumerate(calendar):
        at = week - s.first_week
        if at - LAGS < 0 or at >= len(z) or np.isnan(z[at]):
            continue
        recent = z[at - LAGS : at]
        if np.isnan(recent).all():
            continue
        deviation[k] = z[at] - np.nanmean(recent)
    # ties (the zeros) get distinct ranks in calendar order; a stable sort keeps that deterministic
    return np.argsort(np.argsort(deviation, kind="stable"), kind="stable")


def cell_paths(cells: pd.DataFrame, ranks: dict[str, np.ndarray], weeks: int = PATH_WEEKS) -> np.ndarray:
    """(len(cells), weeks) sampled units: each cell's split-normal (log1p) quantile at its SKU's ranks."""
    levels = np.array([NormalDist().inv_cdf((k + 0.5) / weeks) for k in range(weeks)])
    z = levels[np.stack([ranks[sku] for sku in cells["sku"]])]
    lo, mid, hi = (np.log1p(np.clip(cells[c].to_numpy(dtype=float), 0.0, None))[:, None] for c in ("p10", "p50", "p90"))
    spread = np.where(z < 0, (mid - lo) / Z_90, (hi - mid) / Z_90)
    return np.expm1(mid + z * spread)


def _group_scale(members: list[SkuSeries], origin: int) -> float:
    start = max(s.first_week for s in members)
    total = np.zeros(origin - start + 1)
    for s in members:
        units = s.series.units[start - s.first_week : origin - s.first_week + 1]
        idx = np.arange(len(units))
        ok = ~np.isnan(units)
        total += np.interp(idx, idx[ok], units[ok]) if ok.any() else 0.0
    return float(np.abs(np.diff(total)).mean()) if len(total) > 1 else float("nan")


def aggregated_cells(
    cells: pd.DataFrame,
    everything: list[SkuSeries],
    by: list[str],
    weeks: int = PATH_WEEKS,
    known: Ranks | None = None,
) -> pd.DataFrame:
    """One row per (group, origin, horizon): y and p10/p50/p90 of the sum (reconciled through the sample
    paths), the sum of the series' medians, and the group's MASE scale, in `protocol`'s cell columns."""
    by_sku = {s.sku: s for s in everything}
    rows = []
    for origin, at_origin in cells.groupby("origin"):
        at_origin = at_origin.reset_index(drop=True)
        seen = sorted(set(at_origin["sku"]))
        ranks = deviation_ranks([by_sku[s] for s in seen], int(origin), weeks, known)
        paths = cell_paths(at_origin, ranks, weeks)
        groups = at_origin.groupby([*by, "horizon"]) if by else at_origin.groupby(["horizon"])
        scales: dict[tuple[str, ...], float] = {}
        for key, group in groups:
            key = key if isinstance(key, tuple) else (key,)
            label = tuple(str(k) for k in key[:-1])
            if label not in scales:
                members = [by_sku[s] for s in seen if all(by_sku[s].brand == v for v in label)]
                scales[label] = _group_scale(members, int(origin))
            summed = paths[group.index.to_numpy()].sum(axis=0)
            p10, p50, p90 = np.quantile(summed, [0.1, 0.5, 0.9])
            rows.append(
                (
                    "/".join(label) or "chain",
                    int(origin),
                    int(key[-1]),
                    float(group["y"].sum()),
                    float(p10),
                    float(p50),
                    float(p90),
                    float(group["p50"].sum()),
                    scales[label],
                )
            )
    return pd.DataFrame(rows, columns=["group", "origin", "horizon", "y", "p10", "p50", "p90", "sum_of_p50", "scale"])


def aggregate_metrics(
    cells: pd.DataFrame, everything: list[SkuSeries], known: Ranks | None = None
) -> dict[str, dict[str, float]]:
    """Per level: the protocol's metrics of the reconciled aggregate forecasts, and the WAPE of the summed
    series medians beside them (`known`: the ranks already computed for these SKUs, filled as it goes)."""
    known = {} if known is None else known
    out = {}
    for level, by in LEVELS.items():
        frame = aggregated_cells(cells, everything, by, PATH_WEEKS, known)
        metrics = protocol.series_metrics(frame)
        y = frame["y"].to_numpy()
        metrics["wape_sum_of_p50"] = float(np.abs(y - frame["sum_of_p50"].to_numpy()).sum() / y.sum())
        out[level] = metrics
    return out

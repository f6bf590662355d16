"""The reconciliation of series quantiles into quantiles of their sum (model_build.forecasting.aggregate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commerce_ai.forecasting.features import Series
from model_build.forecasting.aggregate import aggregated_cells, cell_paths
from model_build.forecasting.data import SkuSeries

WEEKS = 40


def _sku(name: str, units: np.ndarray) -> SkuSeries:
    dates = np.arange(len(units) + 8).astype("datetime64[W]").astype("datetime64[D]")
    ones = np.ones(len(units) + 8)
    return SkuSeries(name, "b", 1, Series(dates, units, ones, ones * 0, ones * 0))


def _cells(skus: list[str], origin: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"sku": skus, "brand": "b", "origin": origin, "horizon": 1, "y": 30.0, "p10": 5.0, "p50": 10.0, "p90": 20.0}
    )


def test_a_cell_s_paths_keep_its_own_quantiles() -> None:
    ranks = {"a": np.arange(WEEKS)}
    paths = cell_paths(_cells(["a"], 10), ranks, WEEKS)[0]
    assert np.quantile(paths, 0.5) == pytest.approx(10.0, rel=0.03)
    assert paths.min() < 5.0 < np.quantile(paths, 0.15) and np.quantile(paths, 0.85) < 20.0 < paths.max()


def test_series_that_move_together_sum_their_quantiles_and_independent_ones_do_not() -> None:
    rng = np.random.default_rng(3)
    common = rng.normal(size=60)
    together = [_sku(n, np.expm1(3 + 0.5 * common)) for n in ("a", "b")]
    apart = [_sku(n, np.expm1(3 + 0.5 * rng.normal(size=60))) for n in ("a", "b")]
    origin = 1 + 59
    wide = aggregated_cells(_cells(["a", "b"], origin), together, [], WEEKS).iloc[0]
    narrow = aggregated_cells(_cells(["a", "b"], origin), apart, [], WEEKS).iloc[0]
    # perfectly dependent stores: the p90 of the sum is (about) the sum of the p90s, 40
    assert wide["p90"] == pytest.approx(40.0, rel=0.05)
    # independent ones: the band of the sum is narrower than the summed bands, the median about the same
    assert narrow["p90"] < wide["p90"] - 2 and narrow["p10"] > wide["p10"] + 1
    assert narrow["sum_of_p50"] == 20.0 and narrow["y"] == 60.0

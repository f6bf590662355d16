"""The Prophet study's bookkeeping (model_build.forecasting.hybrid.ProphetStudy): fits cached per (SKU,
origin), made in batches with a hook after each (the eval saves its study there, so a stopped run resumes),
and the hook never pickled with the study. Prophet itself is replaced by a stand-in: no fit runs here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from commerce_ai.forecasting.features import Series
from model_build.forecasting import hybrid
from model_build.forecasting.data import SkuSeries


def _sku(name: str, weeks: int = 20) -> SkuSeries:
    dates = np.arange(weeks + 8).astype("datetime64[W]").astype("datetime64[D]")
    ones = np.ones(weeks + 8)
    return SkuSeries(name, "b", 1, Series(dates, np.arange(1.0, weeks + 1), ones, ones * 0, ones * 0))


@pytest.fixture
def fitted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def stand_in(s: SkuSeries) -> tuple[np.ndarray, float]:
        calls.append(s.sku)
        grid = np.full((len(s.series.dates), 3), float(s.series.units[-1]))
        return grid * np.array([1.0, 0.5, 1.5]), 0.25

    monkeypatch.setattr(hybrid, "fit_prophet", stand_in)
    return calls


def test_fits_come_in_batches_with_the_hook_after_each_and_are_made_once(fitted: list[str]) -> None:
    study = hybrid.ProphetStudy(batch=2)
    saved: list[int] = []
    study.on_batch = lambda: saved.append(study.fit_count)
    skus = [_sku(f"s{i}") for i in range(5)]

    forecasts = study.prophet(skus, 20)
    study.prophet(skus, 20)  # cached: no second fit

    assert fitted == [s.sku for s in skus]
    assert saved == [2, 4, 5]
    assert (study.fit_count, study.fit_seconds) == (5, 1.25)
    assert forecasts.shape == (5, 8, 3)
    assert np.all(np.diff(forecasts, axis=2) >= 0)  # p10 <= p50 <= p90


def test_a_pickled_study_keeps_its_fits_but_not_its_hook(fitted: list[str]) -> None:
    study = hybrid.ProphetStudy(batch=2)
    study.on_batch = lambda: None
    study.prophet([_sku("a"), _sku("b")], 20)

    restored = pickle.loads(pickle.dumps(study))

    assert restored.on_batch is None
    assert set(restored.fits) == {("a", 20), ("b", 20)}
    restored.prophet([_sku("a"), _sku("b"), _sku("c")], 20)  # resumes: only the missing SKU is fitted
    assert fitted == ["a", "b", "c"]

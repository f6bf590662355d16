"""Forecasts always come out as p10 <= p50 <= p90, whatever the boosters or the calibration say."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai.forecasting.features import FEATURE_NAMES, Series, to_units
from commerce_ai.forecasting.model import Calibration, ForecastModel


@given(
    st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=20),
    st.floats(-2, 8),
)
def test_units_are_ordered_and_non_negative_even_from_crossed_quantiles(rows: list, level: float) -> None:
    units = to_units(np.asarray(rows), np.full(len(rows), level))
    assert (units >= 0).all()
    assert (np.diff(units, axis=1) >= 0).all()


def series(n: int = 40, horizons: int = 8) -> Series:
    dates = np.asarray([date(2026, 1, 5) + timedelta(weeks=i) for i in range(n + horizons)], dtype="datetime64[D]")
    units = 50 + 10 * np.sin(np.arange(n) / 3)
    return Series(dates, units, np.full(n + horizons, 2.0), np.zeros(n + horizons), np.zeros(n + horizons))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1.0, 1.0), min_size=8, max_size=8))
def test_a_negative_calibration_cannot_cross_the_band(offsets: list[float]) -> None:
    def predict(x: np.ndarray) -> np.ndarray:
        assert x.shape[1] == len(FEATURE_NAMES)
        return np.tile([-0.1, 0.0, 0.1], (len(x), 1))

    model = ForecastModel(predict, Calibration(offsets=offsets, season=52, freq="W"))
    q = model.forecast([series(), series(30)], 8)
    assert q.shape == (2, 8, 3)
    assert (np.diff(q, axis=2) >= 0).all()


def test_the_onnx_graph_matches_the_native_boosters(tmp_path: Path) -> None:
    """The exported graph (three boosters concatenated) agrees with LightGBM itself."""
    import onnxruntime as ort

    from commerce_ai.artifacts.manifest import TrainingData
    from model_build.forecasting import global_model
    from model_build.forecasting.export import write_artifact

    many = [series(60) for _ in range(5)]
    x, y = global_model.training_rows(many, 8, 52)
    booster = global_model.fit(x, y + np.random.default_rng(0).normal(0, 0.1, len(y)), 52, rounds=10)
    built = write_artifact(
        booster, Calibration([0.0] * 8, 52, "W"), tmp_path, TrainingData(fingerprint="f", source="s", rows=1), {}
    )
    session = ort.InferenceSession(str(built.directory / "model.onnx"))
    onnx_out = session.run(None, {"features": x[:200]})[0]
    assert onnx_out.shape == (200, 3)
    assert np.abs(onnx_out - booster.predict_relative(x[:200])).max() < 1e-4

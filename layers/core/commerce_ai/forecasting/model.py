"""The served forecast model: three quantile boosters in one ONNX graph plus conformal offsets.

`model.onnx` takes `features` [N, len(FEATURE_NAMES)] and answers `quantiles` [N, 3]: p10, p50 and p90 of
log1p(units) relative to the series' level (see `features`). `calibration.json` holds, per horizon, the
offset that widens (or narrows) the p10-p90 band so that it covered 80% of the weeks held out for it
(conformalized quantile regression on the last window before the model was fitted). Both are read once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commerce_ai.forecasting.features import QUANTILES, Series, feature_rows, level_of, to_units

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "forecasting-demand"
CALIBRATION = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """Per horizon (1-based), the conformal offset added to p90 and taken from p10 (log space)."""

    offsets: list[float]
    season: int
    freq: str

    def offset(self, horizons: np.ndarray) -> np.ndarray:
        import numpy as np  # the ml layer; lazily, so core-only functions never load it

        table = np.asarray(self.offsets, dtype=float)
        return table[np.clip(np.asarray(horizons, dtype=int) - 1, 0, len(table) - 1)] if len(table) else 0.0 * horizons

    def to_json(self) -> str:
        return json.dumps({"offsets": self.offsets, "season": self.season, "freq": self.freq}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Calibration:
        raw = json.loads(text)
        return cls(offsets=[float(v) for v in raw["offsets"]], season=int(raw["season"]), freq=str(raw["freq"]))


def calibrated(relative: np.ndarray, horizons: np.ndarray, calibration: Calibration) -> np.ndarray:
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    out = np.array(relative, dtype=float, copy=True)
    offset = calibration.offset(horizons)
    out[:, 0] -= offset
    out[:, -1] += offset
    return out


@dataclass
class ForecastModel:
    """Relative-quantile predictor + calibration -> p10/p50/p90 in units for any series."""

    predict_relative: Callable[[np.ndarray], np.ndarray]
    calibration: Calibration

    def forecast(self, series: list[Series], horizons: int) -> np.ndarray:
        """(n_series, horizons, 3) units, ordered p10 <= p50 <= p90, for the periods after each series' last
        observed one (each series' covariates must reach that far)."""
        import numpy as np  # the ml layer; lazily, so core-only functions never load it

        if not series:
            return np.zeros((0, horizons, len(QUANTILES)))
        steps = np.arange(1, horizons + 1)
        rows, levels = [], []
        for s in series:
            origin = np.full(horizons, s.observed - 1)
            rows.append(feature_rows(s, origin, steps, self.calibration.season))
            levels.append(level_of(s, origin))
        relative = calibrated(self.predict_relative(np.vstack(rows)), np.tile(steps, len(series)), self.calibration)
        return to_units(relative, np.concatenate(levels)).reshape(len(series), horizons, len(QUANTILES))


def onnx_predictor(session: Any) -> Callable[[np.ndarray], np.ndarray]:
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    name = session.get_inputs()[0].name

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {name: np.asarray(x, dtype=np.float32)})[0], dtype=float)

    return predict


def open_forecast_model(manifest: Any, directory: Path) -> ForecastModel:
    """The registry loader's opener for `forecasting-demand` (ONNX session checked against the manifest)."""
    from commerce_ai.artifacts.frameworks import open_onnx

    session = open_onnx(manifest, directory)
    return ForecastModel(onnx_predictor(session), Calibration.from_json((directory / CALIBRATION).read_bytes()))

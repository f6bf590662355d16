"""The served propensity models, `propensity-7d` and `propensity-28d`: XGBoost as ONNX plus `propensity.json`.

`propensity.json` beside each model holds what turns the booster's raw score into an answer:
- `calibration`: Platt scaling fitted on the validation slice, p = sigmoid(slope * logit(raw) + intercept).
  It is strictly increasing, so it keeps the booster's ranking (isotonic regression's flat steps tie
  users and cost 0.02 of PR-AUC on CDNOW);
- `reference`: per feature, its median over the training examples; the reasons for a score come from
  occlusion (each feature in turn set to its reference, in one batched inference): a feature whose
  replacement lowers the probability raised it, and the other way round;
- `prior`: the share of users seen before the validation cut-off who bought within the horizon after
  it, the cold-start answer for a user without a profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.artifacts.frameworks import open_onnx
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.propensity.features import FEATURE_NAMES

HORIZONS: dict[str, int] = {"7d": 7, "28d": 28}
POLICY_FILE = "propensity.json"
TOP_REASONS = 3
MIN_EFFECT = 1e-4  # a feature whose occlusion moves the probability less than this is no reason


def model_name(horizon: str) -> str:
    return f"propensity-{horizon}"


class Calibration(BaseModel):
    model_config = ConfigDict(frozen=True)

    slope: float = Field(gt=0, description="Of logit(raw score); positive, so the ranking is kept.")
    intercept: float

    def apply(self, raw: Any) -> Any:
        import numpy as np

        clipped = np.clip(np.asarray(raw, dtype=np.float64), 1e-7, 1 - 1e-7)
        return 1.0 / (1.0 + np.exp(-(self.slope * np.log(clipped / (1 - clipped)) + self.intercept)))


class PropensityPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    horizon_days: int
    calibration: Calibration
    feature_names: list[str]
    reference: list[float]
    prior: float = Field(ge=0, le=1)


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    effect: float  # probability minus the probability with the feature at its reference value


@dataclass(frozen=True)
class PropensityModel:
    session: Any
    policy: PropensityPolicy

    def raw(self, rows: Any) -> Any:
        import numpy as np

        outputs = self.session.run(["probabilities"], {"features": np.asarray(rows, dtype=np.float32)})
        return np.asarray(outputs[0], dtype=np.float64)[:, 1]

    def calibrated(self, raw: Any) -> Any:
        return self.policy.calibration.apply(raw)

    def probabilities(self, rows: Any) -> Any:
        return self.calibrated(self.raw(rows))

    def score(self, features: Sequence[float]) -> tuple[float, list[Reason], list[Reason]]:
        """The calibrated probability, and the TOP_REASONS features that raised and that lowered it most."""
        import numpy as np

        base = np.asarray(features, dtype=np.float32)
        n = len(base)
        rows = np.repeat(base[None, :], n + 1, axis=0)
        every = np.arange(n)
        rows[every + 1, every] = np.asarray(self.policy.reference, dtype=np.float32)
        probabilities = self.probabilities(rows)
        effect = probabilities[0] - probabilities[1:]
        order = np.argsort(-effect, kind="stable")
        up = [Reason(FEATURE_NAMES[i], float(base[i]), float(effect[i])) for i in order if effect[i] > MIN_EFFECT]
        down = [
            Reason(FEATURE_NAMES[i], float(base[i]), float(effect[i])) for i in order[::-1] if effect[i] < -MIN_EFFECT
        ]
        return float(probabilities[0]), up[:TOP_REASONS], down[:TOP_REASONS]


def open_propensity_model(manifest: Manifest, directory: Path) -> PropensityModel:
    policy = PropensityPolicy.model_validate_json((directory / POLICY_FILE).read_bytes())
    if policy.feature_names != FEATURE_NAMES or len(policy.reference) != len(FEATURE_NAMES):
        raise ValueError("propensity.json's features differ from the features this code computes")
    return PropensityModel(open_onnx(manifest, directory), policy)

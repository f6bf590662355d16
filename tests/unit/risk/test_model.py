"""The served model's reasons: occlusion against the policy's reference values, in one batched inference."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from commerce_ai.risk.decisions import Thresholds
from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.model import POLICY_FILE, TOP_FEATURES, DecisionPolicy, RiskModel, open_risk_model
from tests.unit.fakes import make_manifest

N = len(FEATURE_NAMES)


class LogisticSession:
    """An ONNX-session stand-in: probabilities of sigmoid(features @ weights + bias), and the batches seen."""

    def __init__(self, weights: dict[str, float], bias: float = -2.0) -> None:
        self.weights = np.array([weights.get(name, 0.0) for name in FEATURE_NAMES])
        self.bias = bias
        self.batches: list[np.ndarray] = []

    def run(self, outputs: list[str], inputs: dict[str, Any]) -> list[np.ndarray]:
        assert outputs == ["probabilities"]
        rows = inputs["features"]
        assert rows.dtype == np.float32 and rows.shape[1] == N
        self.batches.append(rows)
        p = 1 / (1 + np.exp(-(rows.astype(np.float64) @ self.weights + self.bias)))
        return [np.stack([1 - p, p], axis=1).astype(np.float32)]


def policy(reference: list[float] | None = None) -> DecisionPolicy:
    return DecisionPolicy(
        thresholds=Thresholds(review=0.5, decline=0.9),
        feature_names=list(FEATURE_NAMES),
        reference=reference if reference is not None else [0.0] * N,
    )


def features(**values: float) -> list[float]:
    return [values.get(name, 0.0) for name in FEATURE_NAMES]


def test_the_reasons_are_the_features_whose_reference_value_lowers_the_score_most() -> None:
    # Given a model where four features raise the score by different amounts and one lowers it
    session = LogisticSession(
        {
            "speed_kmh": 0.0009,
            "amount_log": 0.5,
            "device_new_for_user": 1.0,
            "ip_new_for_user": 0.1,
            "user_age_days": -0.2,
        }
    )
    model = RiskModel(session, policy())
    row = features(speed_kmh=3000.0, amount_log=6.0, device_new_for_user=1.0, ip_new_for_user=1.0, user_age_days=5.0)
    # when it scores a payment
    score, top = model.score(row)
    # then the score is the model's, and one batch held the row and one occluded copy per feature
    assert score == pytest.approx(
        float(session.run(["probabilities"], {"features": np.asarray([row], dtype=np.float32)})[0][0, 1])
    )
    assert len(session.batches[0]) == N + 1
    # and the reasons are the top features by contribution, all raising the score, largest first
    assert [name for name, _, _ in top] == ["amount_log", "speed_kmh", "device_new_for_user"]
    assert len(top) == TOP_FEATURES
    contributions = [c for _, _, c in top]
    assert contributions == sorted(contributions, reverse=True) and min(contributions) > 0
    assert top[0][1] == pytest.approx(6.0)


def test_features_at_their_reference_value_or_lowering_the_score_are_not_reasons() -> None:
    # Given only one feature that raises the score, and another away from its reference but lowering it
    session = LogisticSession({"amount_log": 0.5, "user_age_days": -0.2})
    reference = [0.0] * N
    reference[FEATURE_NAMES.index("amount_log")] = 6.0  # the payment's amount is the usual one
    model = RiskModel(session, policy(reference))
    _, top = model.score(features(amount_log=6.0, user_age_days=3.0, speed_kmh=100.0))
    # then nothing is given as a reason
    assert top == []
    _, top = model.score(features(amount_log=8.0, user_age_days=3.0))
    assert [name for name, _, _ in top] == ["amount_log"]
    assert top[0][2] > 1e-4


def test_open_risk_model_refuses_a_policy_for_other_features(tmp_path: Path) -> None:
    manifest = make_manifest(name="risk-model", features=list(FEATURE_NAMES), framework="onnx")
    stale = policy().model_dump()
    stale["feature_names"] = list(FEATURE_NAMES[:-1])
    (tmp_path / POLICY_FILE).write_text(json.dumps(stale))
    with pytest.raises(ValueError, match="features differ"):
        open_risk_model(manifest, tmp_path)
    short = policy().model_dump()
    short["reference"] = [0.0] * (N - 1)
    (tmp_path / POLICY_FILE).write_text(json.dumps(short))
    with pytest.raises(ValueError, match="features differ"):
        open_risk_model(manifest, tmp_path)

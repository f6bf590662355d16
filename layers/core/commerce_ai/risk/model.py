"""The served fraud model, `risk-model`: XGBoost as ONNX plus its decision policy, and the graph snapshot,
`risk-graph`, published on its own so the weekly job can refresh it without a new model.

`policy.json` beside the model holds the thresholds chosen on validation data, the rule settings, and a
reference value per feature (its median over genuine training payments). The reasons for a score come
from occlusion: each feature in turn is set to its reference value, all in one batched inference, and
the features whose replacement lowers the score most are the ones that drove it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.artifacts.frameworks import open_onnx
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.risk.decisions import RuleConfig, Thresholds
from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.graph import GraphSnapshot

MODEL_NAME = "risk-model"
GRAPH_NAME = "risk-graph"
POLICY_FILE = "policy.json"
TOP_FEATURES = 3


class DecisionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    thresholds: Thresholds
    rules: RuleConfig = RuleConfig()
    feature_names: list[str]
    reference: list[float] = Field(description="Per feature: the median over genuine training payments.")


@dataclass(frozen=True)
class RiskModel:
    session: Any
    policy: DecisionPolicy

    def scores(self, rows: Any) -> Any:
        import numpy as np

        outputs = self.session.run(["probabilities"], {"features": np.asarray(rows, dtype=np.float32)})
        return np.asarray(outputs[0], dtype=np.float64)[:, 1]

    def score(self, features: Sequence[float]) -> tuple[float, list[tuple[str, float, float]]]:
        """The fraud probability and the TOP_FEATURES (name, value, contribution) that raised it most."""
        import numpy as np

        base = np.asarray(features, dtype=np.float32)
        n = len(base)
        rows = np.repeat(base[None, :], n + 1, axis=0)
        occluded = np.arange(n)
        rows[occluded + 1, occluded] = np.asarray(self.policy.reference, dtype=np.float32)
        scores = self.scores(rows)
        contribution = scores[0] - scores[1:]
        top = [int(i) for i in np.argsort(-contribution)[:TOP_FEATURES] if contribution[i] > 1e-4]
        return float(scores[0]), [(FEATURE_NAMES[i], float(base[i]), float(contribution[i])) for i in top]


def open_risk_model(manifest: Manifest, directory: Path) -> RiskModel:
    policy = DecisionPolicy.model_validate_json((directory / POLICY_FILE).read_bytes())
    if policy.feature_names != list(FEATURE_NAMES) or len(policy.reference) != len(FEATURE_NAMES):
        raise ValueError("policy.json's features differ from the features this code computes")
    return RiskModel(open_onnx(manifest, directory), policy)


def open_graph(manifest: Manifest, directory: Path) -> GraphSnapshot:
    return GraphSnapshot.model_validate_json((directory / manifest.entrypoint).read_bytes())

"""How the fraud scorer does on the simulator's time-split holdout, against a rules-only baseline and the
model without graph features.

Each variant decides as serving decides (`commerce_ai.risk.decisions`): the model's score band (thresholds
chosen on validation data) combined with the rules; the rules-only baseline is the rules alone. Model-only
metrics (PR-AUC, ROC-AUC, recall at a 0.3% false-positive rate on the holdout's own curve) are given too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from commerce_ai.risk.decisions import Thresholds
from commerce_ai.risk.features import FEATURE_NAMES, VELOCITY_FEATURES
from model_build.risk.export import Trained
from model_build.risk.simulator import FRAUD_SCENARIOS
from model_build.risk.train import (
    MAX_FPR,
    choose_thresholds,
    columns,
    predict,
    rule_severity,
    threshold_at_fpr,
    train_booster,
)

VARIANTS = ("rules_only", "velocity_model", "full_model")
LABELS = {
    "rules_only": "rules only (baseline: the shipped rules, without the model)",
    "velocity_model": "XGBoost on velocity features only, plus rules",
    "full_model": "XGBoost on velocity and graph features, plus rules (shipped)",
}


@dataclass(frozen=True)
class VariantResult:
    name: str
    holdout_scores: np.ndarray | None  # model probability; None for rules only
    decisions: np.ndarray  # 0 approve, 1 review, 2 decline, per holdout payment
    thresholds: Thresholds | None


@dataclass(frozen=True)
class Evaluation:
    trained: Trained
    variants: dict[str, VariantResult]
    summary: pd.DataFrame  # one row per variant
    by_scenario: pd.DataFrame  # recall (decision != approve) per scenario and variant


def _with_model(scores: np.ndarray, thresholds: Thresholds, rules: np.ndarray) -> np.ndarray:
    bands = np.where(scores >= thresholds.decline, 2, np.where(scores >= thresholds.review, 1, 0))
    return np.maximum(bands, rules)


def _recall_at_fpr(scores: np.ndarray, is_fraud: np.ndarray, fpr: float) -> float:
    threshold = threshold_at_fpr(scores, is_fraud, fpr)
    return float((scores[is_fraud] >= threshold).mean())


def evaluate(trained: Trained) -> Evaluation:
    from sklearn.metrics import average_precision_score, roc_auc_score

    parts, config = trained.split, trained.policy.rules
    holdout, y = parts.holdout, parts.holdout.is_fraud
    rules = rule_severity(holdout, config)
    variants = {"rules_only": VariantResult("rules_only", None, rules, None)}
    velocity_columns = columns(VELOCITY_FEATURES)
    velocity = train_booster(parts.train, parts.validation, velocity_columns)
    for name, booster, cols in (
        ("velocity_model", velocity, velocity_columns),
        ("full_model", trained.booster, list(range(len(FEATURE_NAMES)))),
    ):
        validation = predict(booster, parts.validation, cols)
        thresholds = choose_thresholds(validation, parts.validation, config)
        scores = predict(booster, holdout, cols)
        variants[name] = VariantResult(name, scores, _with_model(scores, thresholds, rules), thresholds)

    rows = []
    for name, result in variants.items():
        flagged, declined = result.decisions >= 1, result.decisions == 2
        scores = result.holdout_scores if result.holdout_scores is not None else result.decisions.astype(float)
        rows.append(
            {
                "variant": name,
                "pr_auc": float(average_precision_score(y, scores)),
                "roc_auc": float(roc_auc_score(y, scores)),
                "recall_at_fpr_0.3%": _recall_at_fpr(scores, y, MAX_FPR)
                if result.holdout_scores is not None
                else np.nan,
                "recall": float(flagged[y].mean()),
                "fpr": float(flagged[~y].mean()),
                "decline_recall": float(declined[y].mean()),
                "decline_fpr": float(declined[~y].mean()),
                "precision": float(y[flagged].mean()) if flagged.any() else np.nan,
                "accuracy": float(((result.decisions >= 1) == y).mean()),
            }
        )
    summary = pd.DataFrame(rows).set_index("variant")
    scenario_rows = []
    for scenario in ("legit", *FRAUD_SCENARIOS):
        mask = holdout.scenario == scenario
        scenario_rows.append(
            {
                "scenario": scenario,
                "payments": int(mask.sum()),
                **{
                    name: float((r.decisions[mask] >= 1).mean()) if mask.any() else np.nan
                    for name, r in variants.items()
                },
            }
        )
    return Evaluation(trained, variants, summary, pd.DataFrame(scenario_rows).set_index("scenario"))

"""Train the fraud model (XGBoost), pick its decision thresholds on validation data, export to ONNX.

Split by time (`split`): after the warm-up days (no fraud), train / validation / holdout in time order;
the warm-up trains too (its genuine customers are the only ones without history). Thresholds are chosen on
validation (`choose_thresholds`) so that, together with the rules, the share of genuine payments that
are not approved stays within MAX_FPR (review) and DECLINE_FPR (decline), with a confidence margin; the
holdout is touched only by the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.risk.decisions import SEVERITY, RuleConfig, Thresholds, combine, post_model_rules, pre_model_rules
from commerce_ai.risk.features import FEATURE_NAMES
from model_build.risk.dataset import Dataset

MAX_FPR = 0.003  # the design's "under 0.3% false positives": genuine payments sent to review or declined
DECLINE_FPR = 0.0005
THRESHOLD_CONFIDENCE = 0.9  # the FPR budget holds for this upper confidence bound on validation data
OPSET = 15
PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "aucpr",
    "max_depth": 6,
    "eta": 0.08,
    "subsample": 0.9,
    "colsample_bytree": 0.8,
    "min_child_weight": 2,
    "tree_method": "hist",
    "nthread": 2,
    "seed": 7,
}
ROUNDS = 400
EARLY_STOPPING = 40


@dataclass(frozen=True)
class Split:
    train: Dataset
    validation: Dataset
    holdout: Dataset


def split(dataset: Dataset, start: float, days: int, warmup_days: int) -> Split:
    """Of the days after the warm-up, 60% train, 15% validation, 25% holdout, in time order; the warm-up
    days go to training too. They hold no fraud, but they are the only genuine customers without history the
    simulator has (it has no later sign-ups): without them the model learns that every new account is a
    fraudster's, and a real new customer's first payment would be sent to review."""
    first = start + warmup_days * 86400
    span = (days - warmup_days) * 86400
    train_end, validation_end = first + 0.60 * span, first + 0.75 * span
    t = dataset.time
    return Split(
        dataset.rows(t < train_end),
        dataset.rows((t >= train_end) & (t < validation_end)),
        dataset.rows(t >= validation_end),
    )


def columns(names: tuple[str, ...] | list[str]) -> list[int]:
    return [FEATURE_NAMES.index(n) for n in names]


def fit_booster(x: np.ndarray, y: np.ndarray, x_valid: np.ndarray, y_valid: np.ndarray, names: list[str]) -> Any:
    """XGBoost with PARAMS, early-stopped on the validation rows; only the trees up to the best round ship."""
    import xgboost as xgb

    booster = xgb.train(
        PARAMS,
        xgb.DMatrix(x, label=y, feature_names=names),
        num_boost_round=ROUNDS,
        evals=[(xgb.DMatrix(x_valid, label=y_valid, feature_names=names), "validation")],
        early_stopping_rounds=EARLY_STOPPING,
        verbose_eval=False,
    )
    return booster[: booster.best_iteration + 1]


def booster_scores(booster: Any, x: np.ndarray, names: list[str]) -> np.ndarray:
    import xgboost as xgb

    return np.asarray(booster.predict(xgb.DMatrix(x, feature_names=names)), dtype=np.float64)


def train_booster(train: Dataset, validation: Dataset, feature_columns: list[int]) -> Any:
    names = [FEATURE_NAMES[i] for i in feature_columns]
    return fit_booster(
        train.features[:, feature_columns],
        train.is_fraud,
        validation.features[:, feature_columns],
        validation.is_fraud,
        names,
    )


def predict(booster: Any, data: Dataset, feature_columns: list[int]) -> np.ndarray:
    return booster_scores(booster, data.features[:, feature_columns], [FEATURE_NAMES[i] for i in feature_columns])


def threshold_at_fpr(
    scores: np.ndarray,
    is_fraud: np.ndarray,
    fpr: float,
    flagged_anyway: np.ndarray | None = None,
    confidence: float | None = None,
) -> float:
    """The lowest threshold that keeps the false-positive rate within `fpr`.

    `flagged_anyway` marks payments the rules already send to review or decline: their genuine ones use up
    part of the budget, since the decision is the stricter of the rules and the score. With `confidence`,
    the budget must hold for the Clopper-Pearson upper bound of the rate, not just the rate seen here, so
    a threshold chosen on validation data keeps to `fpr` on new data with that confidence.
    """
    genuine = ~is_fraud
    already = flagged_anyway[genuine] if flagged_anyway is not None else np.zeros(int(genuine.sum()), dtype=bool)
    n, spent = len(already), int(already.sum())
    candidates = np.sort(scores[genuine][~already])[::-1]

    def within(flagged: int) -> bool:
        if confidence is None:
            return flagged <= fpr * n
        from scipy.stats import beta

        if flagged >= n:  # every genuine payment flagged: the bound is 1
            return fpr >= 1.0
        return bool(beta.ppf(confidence, flagged + 1, n - flagged) <= fpr)

    allowed = 0
    while allowed < len(candidates) and within(spent + allowed + 1):
        allowed += 1
    if allowed >= len(candidates):
        return 0.0
    # Just above the (allowed+1)-th highest remaining genuine score, so at most `allowed` more are flagged.
    return float(np.nextafter(candidates[allowed], np.inf))


def rule_severity(data: Dataset, config: RuleConfig) -> np.ndarray:
    """Per payment, what the rules alone decide (0 approve, 1 review, 2 decline), as serving applies them
    (no block lists in the simulator)."""
    amounts = data.payments["amount"].to_numpy(dtype=float)
    severity = np.zeros(len(amounts), dtype=int)
    for i, amount in enumerate(amounts):
        hits = pre_model_rules(amount, {}, config) + post_model_rules(amount, data.rule_inputs(i), config)
        severity[i] = SEVERITY[combine("approve", hits)]
    return severity


def choose_thresholds(validation_scores: np.ndarray, validation: Dataset, config: RuleConfig) -> Thresholds:
    """Review and decline thresholds on validation data: with the rules, genuine payments not approved stay
    within MAX_FPR, and declined ones within DECLINE_FPR, at THRESHOLD_CONFIDENCE."""
    rules = rule_severity(validation, config)
    y = validation.is_fraud
    review = threshold_at_fpr(validation_scores, y, MAX_FPR, rules >= 1, THRESHOLD_CONFIDENCE)
    decline = threshold_at_fpr(validation_scores, y, DECLINE_FPR, rules >= 2, THRESHOLD_CONFIDENCE)
    # A declined payment is not approved either, so it must fit the review budget too.
    return Thresholds(review=review, decline=max(decline, review))


def to_onnx(booster: Any, n_features: int, path: Path) -> Path:
    """XGBoost -> ONNX (onnxmltools); outputs `label` [N] and `probabilities` [N, 2]."""
    import onnx
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    # onnxmltools wants feature names f0..fN (or none) to map splits to input columns.
    booster = booster.copy()
    booster.feature_names = None
    model = convert_xgboost(
        booster, initial_types=[("features", FloatTensorType([None, n_features]))], target_opset=OPSET
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path

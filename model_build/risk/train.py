"""Train the fraud model (XGBoost), pick its decision thresholds on validation data, export to ONNX.

Split by time (`split`): the first `warmup` days are replayed for state but not trained on (no fraud,
immature velocity), then train / validation / holdout in time order. Thresholds are chosen on
validation so that the share of genuine payments that are not approved stays within `max_fpr`
(review) and a tenth of it (decline); the holdout is touched only by the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.risk.features import FEATURE_NAMES
from model_build.risk.dataset import Dataset

MAX_FPR = 0.003  # the design's "under 0.3% false positives": genuine payments sent to review or declined
DECLINE_FPR = 0.0005
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
    """Warm-up excluded; of the remaining days, 60% train, 15% validation, 25% holdout, in time order."""
    first = start + warmup_days * 86400
    span = (days - warmup_days) * 86400
    train_end, validation_end = first + 0.60 * span, first + 0.75 * span
    t = dataset.time
    return Split(
        dataset.rows((t >= first) & (t < train_end)),
        dataset.rows((t >= train_end) & (t < validation_end)),
        dataset.rows(t >= validation_end),
    )


def columns(names: tuple[str, ...] | list[str]) -> list[int]:
    return [FEATURE_NAMES.index(n) for n in names]


def train_booster(train: Dataset, validation: Dataset, feature_columns: list[int]) -> Any:
    import xgboost as xgb

    names = [FEATURE_NAMES[i] for i in feature_columns]
    dtrain = xgb.DMatrix(train.features[:, feature_columns], label=train.is_fraud, feature_names=names)
    dvalid = xgb.DMatrix(validation.features[:, feature_columns], label=validation.is_fraud, feature_names=names)
    booster = xgb.train(
        PARAMS,
        dtrain,
        num_boost_round=ROUNDS,
        evals=[(dvalid, "validation")],
        early_stopping_rounds=EARLY_STOPPING,
        verbose_eval=False,
    )
    return booster[: booster.best_iteration + 1]  # the trees up to the best round are what ships


def predict(booster: Any, data: Dataset, feature_columns: list[int]) -> np.ndarray:
    import xgboost as xgb

    names = [FEATURE_NAMES[i] for i in feature_columns]
    matrix = xgb.DMatrix(data.features[:, feature_columns], feature_names=names)
    return np.asarray(booster.predict(matrix), dtype=np.float64)


def threshold_at_fpr(scores: np.ndarray, is_fraud: np.ndarray, fpr: float) -> float:
    """The lowest threshold whose share of genuine scores at or above it is at most `fpr`."""
    genuine = np.sort(scores[~is_fraud])[::-1]
    allowed = int(np.floor(fpr * len(genuine)))
    if allowed >= len(genuine):
        return 0.0
    # Just above the (allowed+1)-th highest genuine score, so at most `allowed` are at or above it.
    return float(np.nextafter(genuine[allowed], np.inf))


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

"""Train the propensity models: XGBoost per horizon on the profile features, Platt calibration on the
validation slice, ONNX export, and the holdout metrics (ROC-AUC, PR-AUC, Brier, top-decile lift).

The examples come from `dataset.examples` over a `Plan`: training cut-offs, one validation cut-off
(early stopping and calibration) and the holdout cut-off, touched only for the reported metrics.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.propensity.features import FEATURE_NAMES
from commerce_ai.propensity.model import POLICY_FILE, Calibration, PropensityPolicy, model_name
from model_build import Built
from model_build.progress import stage
from model_build.propensity.dataset import HORIZONS, Examples, Plan, examples

if TYPE_CHECKING:
    import pandas

PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "max_depth": 4,
    "eta": 0.1,
    "subsample": 0.8,
    "colsample_bytree": 0.6,
    "min_child_weight": 20,
    "lambda": 5.0,
    "tree_method": "hist",
    # one thread: on the shared 2-core machine, two OpenMP threads busy-wait on each other (measured 3x slower)
    "nthread": 1,
    "seed": 7,
}
ROUNDS = 300
EARLY_STOPPING = 30


@dataclass(frozen=True)
class Horizon:
    days: int
    booster: Any
    policy: PropensityPolicy
    holdout_raw: np.ndarray
    holdout_probability: np.ndarray
    metrics: dict[str, float]


@dataclass(frozen=True)
class Trained:
    plan: Plan
    data: Examples
    horizons: dict[int, Horizon]
    source: str
    fingerprint: str

    def split(self) -> tuple[Examples, Examples, Examples]:
        return (
            self.data.before(self.plan.validation),
            self.data.at(self.plan.validation),
            self.data.at(self.plan.holdout),
        )


def lift_top_decile(y: np.ndarray, scores: np.ndarray) -> float:
    """Buyers' share in the top 10% by score over their share overall (ties broken by position)."""
    n = max(1, len(y) // 10)
    top = np.argsort(-scores, kind="stable")[:n]
    base = float(np.mean(y))
    return float(np.mean(y[top]) / base) if base else 0.0


def quality(y: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    both = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, probability)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, probability)) if both else float("nan"),
        "brier": float(brier_score_loss(y, np.clip(probability, 0, 1))),
        "lift_top_decile": lift_top_decile(y, probability),
        "positives": float(y.sum()),
        "users": float(len(y)),
    }


def fit_booster(train: Examples, validation: Examples, days: int) -> Any:
    import xgboost as xgb

    booster = xgb.train(
        PARAMS,
        xgb.DMatrix(train.features, label=train.labels[days]),
        num_boost_round=ROUNDS,
        evals=[(xgb.DMatrix(validation.features, label=validation.labels[days]), "validation")],
        early_stopping_rounds=EARLY_STOPPING,
        verbose_eval=False,
    )
    return booster[: booster.best_iteration + 1]


def raw_scores(booster: Any, features: np.ndarray) -> np.ndarray:
    import xgboost as xgb

    return np.asarray(booster.predict(xgb.DMatrix(features)), dtype=np.float64)


def platt(raw: np.ndarray, y: np.ndarray) -> Calibration:
    """Platt scaling of the raw scores' logits, fitted on the validation slice (unpenalised)."""
    from sklearn.linear_model import LogisticRegression

    clipped = np.clip(raw, 1e-7, 1 - 1e-7)
    logit = np.log(clipped / (1 - clipped)).reshape(-1, 1)
    fitted = LogisticRegression(C=1e6, max_iter=1000).fit(logit, y.astype(int))
    slope = float(fitted.coef_[0][0])
    if slope <= 0:
        raise ValueError("the booster ranks validation users backwards; nothing to calibrate")
    return Calibration(slope=slope, intercept=float(fitted.intercept_[0]))


def fingerprint(data: Examples) -> str:
    digest = hashlib.sha256(data.features.tobytes())
    for days in sorted(data.labels):
        digest.update(data.labels[days].tobytes())
    return digest.hexdigest()


def train(frame: pandas.DataFrame, plan: Plan, source: str, skip_users: frozenset[str] = frozenset()) -> Trained:
    with stage("fold profiles and compute features at each cut-off"):
        data = examples(frame, [*plan.training, plan.validation, plan.holdout], HORIZONS, skip_users)
    trained = Trained(plan, data, {}, source, fingerprint(data))
    train_part, validation, holdout = trained.split()
    if len(train_part.users) == 0 or len(validation.users) == 0:
        raise ValueError("no users before the training or validation cut-offs")
    reference = [float(v) for v in np.median(train_part.features, axis=0)]
    for days in HORIZONS:
        if not 0 < validation.labels[days].sum() < len(validation.users):
            raise ValueError(f"the validation slice needs buyers and non-buyers within {days} days")
        with stage(f"train XGBoost ({days}-day horizon), calibrate on validation"):
            booster = fit_booster(train_part, validation, days)
            calibration = platt(raw_scores(booster, validation.features), validation.labels[days])
        policy = PropensityPolicy(
            horizon_days=days,
            calibration=calibration,
            feature_names=list(FEATURE_NAMES),
            reference=reference,
            prior=float(validation.labels[days].mean()),
        )
        raw = raw_scores(booster, holdout.features)
        probability = calibration.apply(raw)
        trained.horizons[days] = Horizon(
            days, booster, policy, raw, probability, quality(holdout.labels[days], probability)
        )
    return trained


def manifest_metrics(horizon: Horizon) -> dict[str, float]:
    return {
        f"holdout_{name}": round(value, 5)
        for name, value in horizon.metrics.items()
        if name in {"roc_auc", "pr_auc", "brier", "lift_top_decile"} and np.isfinite(value)
    } | {"holdout_users": horizon.metrics["users"], "holdout_buyers": horizon.metrics["positives"]}


def export(trained: Trained, workdir: Path) -> list[Built]:
    from model_build.risk.train import to_onnx  # the same XGBoost -> ONNX conversion risk ships

    built = []
    with stage("export to ONNX, check against the booster"):
        for days, horizon in trained.horizons.items():
            name = model_name(f"{days}d")
            directory = workdir / name
            to_onnx(horizon.booster, len(FEATURE_NAMES), directory / "model.onnx")
            (directory / POLICY_FILE).write_text(horizon.policy.model_dump_json())
            difference = check_onnx(horizon, directory / "model.onnx", trained.split()[2].features)
            if difference > 1e-4:
                raise RuntimeError(f"{name}: the ONNX export differs from the booster by {difference:.2e}")
            built.append(
                Built(
                    name=name,
                    directory=directory,
                    framework="onnx",
                    entrypoint="model.onnx",
                    inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(FEATURE_NAMES)])],
                    outputs=[
                        TensorSpec(name="label", dtype="int64", shape=[None]),
                        TensorSpec(name="probabilities", dtype="float32", shape=[None, 2]),
                    ],
                    feature_names=list(FEATURE_NAMES),
                    training_data=TrainingData(
                        fingerprint=trained.fingerprint, source=trained.source, rows=len(trained.data.users)
                    ),
                    metrics=manifest_metrics(horizon),
                )
            )
    return built


def check_onnx(horizon: Horizon, path: Path, rows: np.ndarray, limit: int = 2000) -> float:
    import onnxruntime as ort

    sample = rows[:limit]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_scores = session.run(["probabilities"], {"features": sample})[0][:, 1]
    return float(np.max(np.abs(onnx_scores - horizon.holdout_raw[:limit]))) if len(sample) else 0.0

"""Train and evaluate a fraud model on the public Kaggle `creditcard.csv`, for users who have the file.

This is an offline study, not the served `risk-model`: that one scores velocity and graph features built
from users, devices, IPs and merchants, which this dataset does not have. Here the model sees only the
file's own columns: the anonymised PCA components V1..V28, log1p(Amount) and the hour of day (taking the
first transaction as midnight). So the numbers show how the training recipe of `model_build.risk.train`
(XGBoost `PARAMS`, early stopping on validation, a review threshold at FPR <= MAX_FPR with a confidence
margin) does on real card data; the resulting model cannot be deployed. See `model_build.risk.data` for
the dataset, its licence and citation.

Split by time: the rows are put in `Time` order and the first 60% train, the next 15% validate (early
stopping, thresholds) and the last 25% are the holdout that is reported. A logistic regression on the same
columns, with its threshold chosen the same way, is the baseline.

    python -m model_build.risk.creditcard path/to/creditcard.csv [--workdir DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model_build.risk.data import DataError, read_creditcard_csv
from model_build.risk.train import MAX_FPR, THRESHOLD_CONFIDENCE, booster_scores, fit_booster, threshold_at_fpr, to_onnx

FEATURES: tuple[str, ...] = (*(f"V{i}" for i in range(1, 29)), "log1p_amount", "hour")
TRAIN_SHARE, VALIDATION_SHARE = 0.60, 0.15  # the holdout is the remaining 25%
MIN_FRAUDS = 2  # per split: fewer and the split can neither train, stop early nor be evaluated
ONNX_NAME = "creditcard_xgboost.onnx"


@dataclass(frozen=True)
class HoldoutMetrics:
    """One scorer on the holdout; recall and FPR are at `threshold`, which was chosen on validation."""

    name: str
    pr_auc: float
    roc_auc: float
    threshold: float
    recall: float
    fpr: float


@dataclass(frozen=True)
class CreditcardResult:
    model: HoldoutMetrics
    baseline: HoldoutMetrics
    rows: tuple[int, int, int]  # train, validation, holdout
    frauds: tuple[int, int, int]
    best_iteration: int
    onnx_path: Path | None = None

    @property
    def holdout_fraud_rate(self) -> float:
        return self.frauds[2] / self.rows[2]

    def markdown(self) -> str:
        lines = [
            f"Holdout: {self.rows[2]:,} transactions, {self.frauds[2]:,} frauds "
            f"({100 * self.holdout_fraud_rate:.2f}%); thresholds chosen on validation for FPR <= "
            f"{100 * MAX_FPR:.1f}% at {THRESHOLD_CONFIDENCE:.0%} confidence.",
            "",
            "| scorer | PR-AUC | ROC-AUC | recall at threshold | FPR at threshold |",
            "|---|---|---|---|---|",
        ]
        for m in (self.model, self.baseline):
            lines.append(
                f"| {m.name} | {m.pr_auc:.3f} | {m.roc_auc:.4f} | {100 * m.recall:.1f}% | {100 * m.fpr:.3f}% |"
            )
        return "\n".join(lines)


def features(frame: pd.DataFrame) -> np.ndarray:
    """The columns of `FEATURES`, float32 (as the ONNX model takes them)."""
    hour = (frame["Time"].to_numpy() // 3600) % 24
    table = np.column_stack(
        [frame[[f"V{i}" for i in range(1, 29)]].to_numpy(), np.log1p(frame["Amount"].to_numpy()), hour]
    )
    return table.astype(np.float32)


def split_by_time(frame: pd.DataFrame, source: str = "creditcard.csv") -> tuple[pd.DataFrame, ...]:
    """Train, validation and holdout in `Time` order; `DataError` if any has fewer than MIN_FRAUDS frauds or
    no genuine transaction."""
    ordered = frame.sort_values("Time", kind="stable").reset_index(drop=True)
    n = len(ordered)
    cuts = (0, round(TRAIN_SHARE * n), round((TRAIN_SHARE + VALIDATION_SHARE) * n), n)
    parts = tuple(ordered.iloc[cuts[i] : cuts[i + 1]] for i in range(3))
    for name, part in zip(("train", "validation", "holdout"), parts, strict=True):
        frauds = int(part["Class"].sum())
        if frauds < MIN_FRAUDS or frauds == len(part):
            span = f"Time {part['Time'].min():g}..{part['Time'].max():g} s" if len(part) else "empty"
            raise DataError(
                f"{source}: the {name} split ({len(part):,} rows, {span}) has {frauds} fraud(s) and "
                f"{len(part) - frauds} genuine; need at least {MIN_FRAUDS} frauds and 1 genuine transaction "
                "in each of train (first 60% by Time), validation (next 15%) and holdout (last 25%)"
            )
    return parts


def _metrics(
    name: str, validation_scores: np.ndarray, y_validation: np.ndarray, scores: np.ndarray, y: np.ndarray
) -> HoldoutMetrics:
    from sklearn.metrics import average_precision_score, roc_auc_score

    threshold = threshold_at_fpr(validation_scores, y_validation, MAX_FPR, confidence=THRESHOLD_CONFIDENCE)
    flagged = scores >= threshold
    return HoldoutMetrics(
        name=name,
        pr_auc=float(average_precision_score(y, scores)),
        roc_auc=float(roc_auc_score(y, scores)),
        threshold=threshold,
        recall=float(flagged[y].mean()),
        fpr=float(flagged[~y].mean()),
    )


def train_creditcard(path: Path, workdir: Path | None = None) -> CreditcardResult:
    """Train XGBoost on `path` (Kaggle creditcard.csv layout), evaluate it and a logistic-regression
    baseline on the time-ordered holdout; with `workdir`, also write the model there as ONNX_NAME."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = Path(path)
    parts = split_by_time(read_creditcard_csv(path), path.name)
    (x_train, x_valid, x_hold) = (features(p) for p in parts)
    (y_train, y_valid, y_hold) = (p["Class"].to_numpy() == 1 for p in parts)

    names = list(FEATURES)
    booster = fit_booster(x_train, y_train, x_valid, y_valid, names)
    model = _metrics(
        "XGBoost (V1..V28, log1p amount, hour)",
        booster_scores(booster, x_valid, names),
        y_valid,
        booster_scores(booster, x_hold, names),
        y_hold,
    )

    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    logistic.fit(x_train, y_train)
    baseline = _metrics(
        "baseline: logistic regression, same columns",
        logistic.predict_proba(x_valid)[:, 1],
        y_valid,
        logistic.predict_proba(x_hold)[:, 1],
        y_hold,
    )

    onnx_path = to_onnx(booster, len(FEATURES), Path(workdir) / ONNX_NAME) if workdir is not None else None
    return CreditcardResult(
        model=model,
        baseline=baseline,
        rows=(len(parts[0]), len(parts[1]), len(parts[2])),
        frauds=(int(y_train.sum()), int(y_valid.sum()), int(y_hold.sum())),
        best_iteration=int(booster.num_boosted_rounds()) - 1,
        onnx_path=onnx_path,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m model_build.risk.creditcard",
        description="Train and evaluate a fraud model on Kaggle's creditcard.csv (an offline study; "
        "not the served risk-model).",
    )
    parser.add_argument("path", type=Path, help="creditcard.csv (download it from Kaggle, see model_build.risk.data)")
    parser.add_argument("--workdir", type=Path, default=None, help=f"also write the model here as {ONNX_NAME}")
    args = parser.parse_args(argv)
    try:
        result = train_creditcard(args.path, args.workdir)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(result.markdown())
    if result.onnx_path is not None:
        print(f"\nONNX model: {result.onnx_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The weekly challenger: train a fraud model on recently scored, labelled transactions, compare it with
the champion on a time-split holdout, register it, and activate it only if it wins.

The training rows are the feature vectors serving stored when it scored each transaction (so they are
exactly what the model sees in production) with the labels that came back (`POST /risk/labels`), from
the WINDOW before now minus LABEL_MATURITY (newer labels are not in yet). An approved transaction without
a label counts as genuine; a reviewed or declined one without a label is left out. Rows are split in time
order (60% train, 15% validation for the thresholds, 25% holdout). Both models score the same holdout
rows; the challenger is activated only when its PR-AUC beats the champion's by MIN_GAIN and it catches
no fewer holdout frauds at its review threshold than the champion at its own.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.manifest import TrainingData
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import validate_version
from commerce_ai.risk.features import FEATURE_NAMES, RULE_SIGNALS
from commerce_ai.risk.model import MODEL_NAME, POLICY_FILE, DecisionPolicy, open_risk_model
from commerce_ai.risk.store import RiskStore, iso
from model_build import publish
from model_build.risk.dataset import Dataset
from model_build.risk.export import model_built
from model_build.risk.train import choose_thresholds, predict, to_onnx, train_booster

WINDOW = timedelta(days=56)
LABEL_MATURITY = timedelta(days=14)  # chargebacks take weeks: newer transactions' labels are not in yet
MIN_FRAUD = 50  # labelled frauds needed to train at all
MIN_HOLDOUT_FRAUD = 20  # and in each of validation and holdout, so a comparison is not noise
MIN_GAIN = 0.005  # PR-AUC the challenger must add on the holdout to replace the champion


@dataclass(frozen=True)
class ChallengerResult:
    outcome: str  # skipped, candidate (kept, not better) or activated
    reason: str
    rows: int = 0
    labelled_fraud: int = 0
    version: str | None = None
    challenger_pr_auc: float | None = None
    champion_pr_auc: float | None = None

    def summary(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def labelled_rows(results: RiskStore, since: datetime, until: datetime) -> Dataset:
    """Scored transactions from `since` to `until`, in time order, as a training set.

    A transaction the champion sent to review or declined and nobody labelled is left out: it never got the
    chance to become a chargeback, so "no label" says nothing about it (counting it as genuine would teach
    the challenger to approve what the champion catches)."""
    rows = []
    for item in results.scored(since):
        values = str(item.get("features", "")).split()
        if len(values) != len(FEATURE_NAMES) or str(item["timestamp"]) >= iso(until):
            continue  # scored by a model with other features, or too recent for its label to be in
        if "label_is_fraud" not in item and item.get("decision") != "approve":
            continue
        signals = str(item.get("rule_signals", "")).split()
        rows.append(
            (
                str(item["timestamp"]),
                [float(v) for v in values],
                bool(item.get("label_is_fraud", False)),
                float(item.get("amount", 0.0)),
                # scored before rule signals were stored: none (their rules cannot be replayed exactly)
                [float(v) for v in signals] if len(signals) == len(RULE_SIGNALS) else [0.0] * len(RULE_SIGNALS),
            )
        )
    rows.sort(key=lambda r: r[0])
    payments = pd.DataFrame({"amount": [r[3] for r in rows]})
    return Dataset(
        features=np.array([r[1] for r in rows], dtype=np.float32).reshape(len(rows), len(FEATURE_NAMES)),
        is_fraud=np.array([r[2] for r in rows], dtype=bool),
        scenario=np.array(["unknown"] * len(rows), dtype=object),
        time=np.array([pd.Timestamp(r[0]).timestamp() for r in rows], dtype=np.float64),
        payments=payments,
        rule_signals=np.array([r[4] for r in rows], dtype=np.float32).reshape(len(rows), len(RULE_SIGNALS)),
    )


def _parts(data: Dataset) -> tuple[Dataset, Dataset, Dataset]:
    n = len(data.time)
    index = np.arange(n)
    return (
        data.rows(index < int(0.60 * n)),
        data.rows((index >= int(0.60 * n)) & (index < int(0.75 * n))),
        data.rows(index >= int(0.75 * n)),
    )


def run_challenger(
    results: RiskStore,
    artifacts: ArtifactStore,
    registry: ModelRegistry,
    now: datetime,
    window: timedelta = WINDOW,
    scratch: Path | None = None,
) -> ChallengerResult:
    from sklearn.metrics import average_precision_score

    data = labelled_rows(results, now - window, now - LABEL_MATURITY)
    fraud = int(data.is_fraud.sum())
    if fraud < MIN_FRAUD:
        why = f"{fraud} labelled frauds between {iso(now - window)} and {iso(now - LABEL_MATURITY)}; {MIN_FRAUD} needed"
        return ChallengerResult("skipped", why, len(data.time), fraud)

    train, validation, holdout = _parts(data)
    if min(validation.is_fraud.sum(), holdout.is_fraud.sum()) < MIN_HOLDOUT_FRAUD or train.is_fraud.sum() == 0:
        return ChallengerResult(
            "skipped", "too few labelled frauds in the validation or holdout weeks", len(data.time), fraud
        )

    with tempfile.TemporaryDirectory(prefix="risk-challenger-", dir=scratch) as work:
        workdir = Path(work)
        champion = ModelLoader(
            MODEL_NAME,
            registry=registry,
            store=artifacts,
            opener=open_risk_model,
            refresh_seconds=0,
            cache_dir=workdir / "champion",
        ).get()
        every = list(range(len(FEATURE_NAMES)))
        booster = train_booster(train, validation, every)
        challenger_scores = predict(booster, holdout, every)
        champion_scores = champion.model.scores(holdout.features)
        challenger_pr_auc = float(average_precision_score(holdout.is_fraud, challenger_scores))
        champion_pr_auc = float(average_precision_score(holdout.is_fraud, champion_scores))

        rules = champion.model.policy.rules
        policy = DecisionPolicy(
            thresholds=choose_thresholds(predict(booster, validation, every), validation, rules),
            rules=rules,
            feature_names=list(FEATURE_NAMES),
            reference=[float(v) for v in np.median(train.features[~train.is_fraud], axis=0)],
        )
        directory = workdir / MODEL_NAME
        to_onnx(booster, len(FEATURE_NAMES), directory / "model.onnx")
        (directory / POLICY_FILE).write_text(policy.model_dump_json(indent=1))
        training = TrainingData(
            fingerprint=hashlib.sha256(data.features.tobytes() + data.is_fraud.tobytes()).hexdigest(),
            source=f"RiskResultsTable: scored transactions since {iso(now - window)} with their labels",
            rows=len(data.time),
        )
        metrics = {
            "holdout_pr_auc": round(challenger_pr_auc, 4),
            "champion_holdout_pr_auc": round(champion_pr_auc, 4),
            "labelled_fraud": float(fraud),
        }
        manifest = publish(artifacts, model_built(directory, training, metrics))
        verdict = validate_version(artifacts, registry, MODEL_NAME, manifest.version, scratch=workdir)
    if verdict.outcome not in ("registered", "unchanged"):
        return ChallengerResult(
            "skipped", f"the challenger was refused: {verdict.reason}", len(data.time), fraud, manifest.version
        )
    # Better means a higher PR-AUC by MIN_GAIN and no fewer frauds caught at each model's own review threshold.
    caught_by_challenger = float((challenger_scores[holdout.is_fraud] >= policy.thresholds.review).mean())
    caught_by_champion = float((champion_scores[holdout.is_fraud] >= champion.model.policy.thresholds.review).mean())
    better = challenger_pr_auc >= champion_pr_auc + MIN_GAIN and caught_by_challenger >= caught_by_champion
    if better:
        registry.activate(MODEL_NAME, manifest.version)
    return ChallengerResult(
        "activated" if better else "candidate",
        f"holdout PR-AUC {challenger_pr_auc:.4f} vs the champion's {champion_pr_auc:.4f} "
        f"({'beats it' if better else f'not better by {MIN_GAIN}'})",
        len(data.time),
        fraud,
        manifest.version,
        round(challenger_pr_auc, 4),
        round(champion_pr_auc, 4),
    )

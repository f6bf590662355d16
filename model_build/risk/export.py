"""Train on the simulator and export `risk-model` (ONNX + policy.json) and `risk-graph` (graph.json)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.risk.decisions import RuleConfig
from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.graph import GRAPH_FILE, GRAPH_INPUTS, GRAPH_KEYS, GRAPH_OUTPUTS, GraphSnapshot
from commerce_ai.risk.model import GRAPH_NAME, MODEL_NAME, POLICY_FILE, DecisionPolicy
from model_build import Built
from model_build.progress import stage
from model_build.risk.dataset import Dataset, replay, snapshot_at
from model_build.risk.pseudonym_key import local_pseudonym_key
from model_build.risk.simulator import SimulatorConfig, simulate
from model_build.risk.train import (
    Split,
    choose_thresholds,
    predict,
    split,
    to_onnx,
    train_booster,
)

SOURCE = "simulated transactions (model_build.risk.simulator, seed {seed}); no real labelled fraud data is used"


@dataclass(frozen=True)
class Trained:
    config: SimulatorConfig
    dataset: Dataset
    split: Split
    booster: Any
    policy: DecisionPolicy
    validation_scores: np.ndarray
    graph: GraphSnapshot  # built at the end of the data, for serving


def fingerprint(dataset: Dataset) -> str:
    digest = hashlib.sha256(dataset.features.tobytes())
    digest.update(dataset.is_fraud.tobytes())
    return digest.hexdigest()


def train(config: SimulatorConfig | None = None, progress: bool = True) -> Trained:
    config = config or SimulatorConfig()
    with stage("simulate payments"):
        simulation = simulate(config)
    with stage("replay through the serving features"):
        dataset = replay(simulation, progress=progress)
    parts = split(dataset, config.start.timestamp(), config.days, config.warmup_days)
    every = list(range(len(FEATURE_NAMES)))
    with stage("train XGBoost, choose thresholds"):
        booster = train_booster(parts.train, parts.validation, every)
        validation = predict(booster, parts.validation, every)
        rules = RuleConfig()
        thresholds = choose_thresholds(validation, parts.validation, rules)
    genuine = parts.train.features[~parts.train.is_fraud]
    policy = DecisionPolicy(
        thresholds=thresholds,
        rules=rules,
        feature_names=list(FEATURE_NAMES),
        reference=[float(v) for v in np.median(genuine, axis=0)],
    )
    end = config.start.timestamp() + config.days * 86400
    graph = snapshot_at(dataset.payments, dataset.time, end, 0.0)
    return Trained(config, dataset, parts, booster, policy, validation, graph)


def export(trained: Trained, workdir: Path, metrics: dict[str, float] | None = None) -> list[Built]:
    source = SOURCE.format(seed=trained.config.seed)
    model_dir = workdir / MODEL_NAME
    to_onnx(trained.booster, len(FEATURE_NAMES), model_dir / "model.onnx")
    (model_dir / POLICY_FILE).write_text(trained.policy.model_dump_json(indent=1))
    graph_dir = workdir / GRAPH_NAME
    graph_dir.mkdir(parents=True, exist_ok=True)
    # No raw ids in the published snapshot: keyed pseudonyms, under the local stack's key.
    published = trained.graph.pseudonymised(local_pseudonym_key().encode())
    (graph_dir / GRAPH_FILE).write_text(published.model_dump_json())
    data = TrainingData(fingerprint=fingerprint(trained.dataset), source=source, rows=len(trained.dataset.time))
    return [
        model_built(model_dir, data, metrics or {}),
        Built(
            name=GRAPH_NAME,
            directory=graph_dir,
            framework="json",
            entrypoint=GRAPH_FILE,
            inputs=GRAPH_INPUTS,
            outputs=GRAPH_OUTPUTS,
            feature_names=list(GRAPH_KEYS),
            training_data=data,
            metrics={"payments": float(trained.graph.payments), "users": float(len(trained.graph.users))},
        ),
    ]


def model_built(directory: Path, training_data: TrainingData, metrics: dict[str, float]) -> Built:
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(FEATURE_NAMES)])],
        outputs=[
            TensorSpec(name="label", dtype="int64", shape=[None]),
            TensorSpec(name="probabilities", dtype="float32", shape=[None, 2]),
        ],
        feature_names=list(FEATURE_NAMES),
        training_data=training_data,
        metrics=metrics,
    )


def check_onnx(trained: Trained, onnx_path: Path, rows: int = 2000) -> float:
    """Largest difference between ONNX and native scores on holdout rows (a conversion sanity check)."""
    import onnxruntime as ort

    holdout = trained.split.holdout
    sample = holdout.features[:rows]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    onnx_scores = session.run(["probabilities"], {"features": sample})[0][:, 1]
    native = predict(
        trained.booster, holdout.rows(np.arange(len(holdout.time)) < rows), list(range(len(FEATURE_NAMES)))
    )
    return float(np.max(np.abs(onnx_scores - native)))


def summary_metrics(trained: Trained) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    every = list(range(len(FEATURE_NAMES)))
    holdout = trained.split.holdout
    scores = predict(trained.booster, holdout, every)
    flagged = scores >= trained.policy.thresholds.review
    y = holdout.is_fraud
    return {
        "holdout_pr_auc": round(float(average_precision_score(y, scores)), 4),
        "holdout_roc_auc": round(float(roc_auc_score(y, scores)), 4),
        "holdout_recall_at_review": round(float(flagged[y].mean()), 4),
        "holdout_fpr_at_review": round(float(flagged[~y].mean()), 5),
        "review_threshold": round(trained.policy.thresholds.review, 5),
        "decline_threshold": round(trained.policy.thresholds.decline, 5),
    }

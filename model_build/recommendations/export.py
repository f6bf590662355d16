"""Train, compare on the protocol and export `recommendations-ranker`: the Wide&Deep ONNX graph plus the
`RecommenderState` serving reads (one artifact version, so the ranker and its neighbours never disagree)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.recommendations.features import (
    DENSE_FEATURES,
    History,
    candidate_scores,
    generate_candidates,
    ranker_inputs,
)
from commerce_ai.recommendations.model import MODEL_FILE, MODEL_NAME
from commerce_ai.recommendations.state import RecommenderState
from model_build import Built
from model_build.progress import stage
from model_build.recommendations import cold_start, protocol, ranker
from model_build.recommendations.data import DataProblem, Dataset, leave_last_out
from model_build.recommendations.fitting import fit_state


@dataclass(frozen=True)
class Trained:
    model: Any  # the torch module
    validation: dict[str, protocol.Scores]  # method -> scores on the validation items
    lists: int
    cold_start: cold_start.ColdStartChoice  # popularity for users without history, chosen on validation
    stage: protocol.Stage  # the validation stage the comparisons were made on (the retrain's champion too)


def generator_ranker(state: RecommenderState, user: int, history: History, seen: np.ndarray) -> np.ndarray:
    return generate_candidates(state, candidate_scores(state, history), seen, protocol.TOP_K)


def model_ranker(model: Any) -> protocol.Ranker:
    def rank(state: RecommenderState, user: int, history: History, seen: np.ndarray) -> np.ndarray:
        scores = candidate_scores(state, history)
        candidates = generate_candidates(state, scores, seen, ranker.CANDIDATES)
        if len(candidates) == 0:
            return candidates
        predicted = ranker.score_with_torch(model, ranker_inputs(state, user, history, scores, candidates))
        return candidates[np.argsort(-predicted, kind="stable")]

    return rank


def fingerprint(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(dataset.interactions, index=False).to_numpy().tobytes())
    digest.update(",".join(dataset.items["item_id"].astype(str)).encode())
    return digest.hexdigest()


def train_and_compare(dataset: Dataset) -> Trained:
    train, _, _ = leave_last_out(dataset.interactions)
    with stage("fit candidate models on the training part"):
        validation = protocol.stages(dataset, ("validation",))["validation"]
    with stage("training lists (last training interactions as targets)"):
        lists = ranker.training_lists(dataset, train)
    if lists.n_lists == 0:
        raise DataProblem("too little data: no user has a training interaction the candidates can rank")
    with stage(f"train Wide&Deep on {lists.n_lists} lists"):
        model = ranker.train_ranker(validation.state, lists)
    with stage("compare on the validation items"):
        scores = {
            "candidate_generator": protocol.evaluate_ranker(validation, generator_ranker),
            "wide_and_deep": protocol.evaluate_ranker(validation, model_ranker(model)),
        }
    with stage("choose cold-start popularity (overall or per segment) on the validation items"):
        cold = cold_start.choose(validation)
    return Trained(model, scores, lists.n_lists, cold, validation)


def export(dataset: Dataset, trained: Trained, workdir: Path) -> Built:
    directory = workdir / MODEL_NAME
    with stage("fit candidate models on every interaction, export to ONNX"):
        state = fit_state(dataset, dataset.interactions)
        cold_start.apply(state, trained.cold_start)
        state.save(directory)
        ranker.export_onnx(trained.model, state, directory / MODEL_FILE)
        difference = check_onnx(trained.model, state, directory / MODEL_FILE)
    if difference > 1e-3:
        raise RuntimeError(f"the ONNX ranker differs from torch by {difference:.2e}")
    wide_and_deep, generator = trained.validation["wide_and_deep"], trained.validation["candidate_generator"]
    metrics = {
        # The registry compares holdout_* on activation: the protocol's validation items (never the test item).
        "holdout_hr_at_10": round(wide_and_deep.hr, 6),
        "holdout_ndcg_at_10": round(wide_and_deep.ndcg, 6),
        "validation_coverage": round(wide_and_deep.coverage, 6),
        "validation_diversity": round(wide_and_deep.diversity, 6),
        "generator_validation_hr_at_10": round(generator.hr, 6),
        "generator_validation_ndcg_at_10": round(generator.ndcg, 6),
        "cold_validation_hr_at_10": round(trained.cold_start.segment.hr, 6),
        "cold_validation_ndcg_at_10": round(trained.cold_start.segment.ndcg, 6),
        "cold_overall_validation_hr_at_10": round(trained.cold_start.overall.hr, 6),
        "cold_overall_validation_ndcg_at_10": round(trained.cold_start.overall.ndcg, 6),
        "training_lists": float(trained.lists),
        "users": float(state.n_users),
        "items": float(state.n_items),
    }
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint=MODEL_FILE,
        inputs=[
            TensorSpec(name="user_index", dtype="int64", shape=[None]),
            TensorSpec(name="item_index", dtype="int64", shape=[None]),
            TensorSpec(name="dense", dtype="float32", shape=[None, len(DENSE_FEATURES)]),
            TensorSpec(name="segments", dtype="int64", shape=[None, len(state.segment_sizes())]),
            TensorSpec(name="categories", dtype="float32", shape=[None, len(state.category_names)]),
        ],
        outputs=[TensorSpec(name="score", dtype="float32", shape=[None, 1])],
        feature_names=list(DENSE_FEATURES),
        training_data=TrainingData(
            fingerprint=fingerprint(dataset), source=dataset.source, rows=len(dataset.interactions)
        ),
        metrics=metrics,
    )


def check_onnx(model: Any, state: RecommenderState, path: Path, users: int = 20) -> float:
    """Largest difference between ONNX Runtime and torch over a few users' candidates."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for user in range(min(users, state.n_users)):
        items, _ = state.history(user)
        history = History.of(items)
        seen = np.zeros(state.n_items, dtype=bool)
        seen[items] = True
        scores = candidate_scores(state, history)
        candidates = generate_candidates(state, scores, seen, ranker.CANDIDATES)
        if len(candidates) == 0:
            continue
        inputs = ranker_inputs(state, user, history, scores, candidates)
        onnx_scores = session.run(["score"], inputs)[0][:, 0]
        worst = max(worst, float(np.max(np.abs(onnx_scores - ranker.score_with_torch(model, inputs)))))
    return worst

"""Popularity for users with no history, overall and per segment, judged on the protocol's held-out items
as if each user were new.

Every user is treated as cold in turn: their own interactions are taken out of the counts (so the
popularity they are ranked by is the other users'; exactly a leave-one-user-out fit, and cheap), nothing
is excluded as seen, and the target is the protocol's validation item (to choose) or test item (to
report). A segment is the user's known attributes (MovieLens: age band, gender, occupation); the build
chooses which attributes and how much shrinkage toward overall popularity on the validation items only,
and the state records the choice, which serving reads (`features.cold_start_segment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from commerce_ai.recommendations.features import cold_start_scores
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations import protocol

SHRINKAGES = (0.0, 30.0, 300.0, 1000.0)
Configuration = tuple[tuple[str, ...], float]  # (attributes, shrinkage); no attributes: overall popularity


@dataclass(frozen=True)
class ColdStartChoice:
    attributes: tuple[str, ...]  # empty: overall popularity
    shrinkage: float
    segment: protocol.Scores  # the chosen configuration on the validation items
    overall: protocol.Scores  # overall popularity on the same items


def _top_lists(
    stage: protocol.Stage, configs: list[Configuration], chunk: int = 512
) -> dict[Configuration, np.ndarray]:
    """Each configuration's top K for every stage user, all users at once (in chunks) through the serving
    code's `cold_start_scores`. Per chunk, each user's own interactions and each attribute's segment
    counts are prepared once for every configuration; users are grouped by which of a configuration's
    attributes the model knows of them (serving drops an attribute it does not know)."""
    state = stage.state
    tops = {config: np.zeros((len(stage.users), protocol.TOP_K), dtype=np.int64) for config in configs}
    offsets = {name: sum(len(v) for v in state.attribute_values[:a]) for a, name in enumerate(state.attribute_names)}
    for start in range(0, len(stage.users), chunk):
        users = stage.users[start : start + chunk]
        own = np.zeros((len(users), state.n_items), dtype=np.float32)  # counts are 0/1 per user and item
        for k, user in enumerate(users):
            own[k, state.history(int(user))[0]] = 1.0
        overall = state.item_popularity[None, :] - own
        values = {name: state.user_attributes[users, a] for a, name in enumerate(state.attribute_names)}
        counts = {
            name: state.segment_popularity[offsets[name] + np.maximum(v, 0)] - own
            for name, v in values.items()
            if state.segment_popularity is not None
        }
        for config in configs:
            attributes, shrinkage = config
            known = np.column_stack([values[name] >= 0 for name in attributes]) if attributes else None
            scores = np.zeros(own.shape, dtype=np.float32)
            patterns = {()} if known is None else {tuple(row) for row in known.tolist()}
            for pattern in patterns:
                group = np.arange(len(users)) if known is None else np.flatnonzero((known == pattern).all(axis=1))
                segments = [counts[name][group] for name, on in zip(attributes, pattern, strict=True) if on]
                scores[group] = cold_start_scores(overall[group], segments, shrinkage)
            top = np.argpartition(-scores, protocol.TOP_K - 1, axis=1)[:, : protocol.TOP_K]
            order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
            tops[config][start : start + len(users)] = np.take_along_axis(top, order, axis=1)
    return tops


def evaluate(stage: protocol.Stage, config: Configuration, detailed: bool = True) -> protocol.Scores:
    """One configuration on the stage's targets, as if each user had no history."""
    return protocol.scores_of(stage, _top_lists(stage, [config])[config], detailed)


def configurations(attribute_names: list[str]) -> list[Configuration]:
    """Overall popularity, then every non-empty subset of the attributes at every shrinkage."""
    subsets = [c for size in range(1, len(attribute_names) + 1) for c in combinations(attribute_names, size)]
    return [((), 0.0)] + [(subset, shrinkage) for subset in subsets for shrinkage in SHRINKAGES]


def sweep(stage: protocol.Stage) -> dict[Configuration, protocol.Scores]:
    """Every configuration on the stage's targets (HR@10, NDCG@10 and coverage only: quick)."""
    configs = configurations(stage.state.attribute_names)
    return {
        config: protocol.scores_of(stage, tops, detailed=False) for config, tops in _top_lists(stage, configs).items()
    }


def best_of(results: dict[Configuration, protocol.Scores]) -> Configuration:
    """Highest HR@10, then NDCG@10, then the fewest attributes."""
    return max(results, key=lambda c: (round(results[c].hr, 6), round(results[c].ndcg, 6), -len(c[0])))


def choose(stage: protocol.Stage) -> ColdStartChoice:
    """The best configuration on the stage's targets (the validation items); overall popularity unless a
    segment beats it."""
    results = sweep(stage)
    best = best_of(results)
    overall: Configuration = ((), 0.0)
    return ColdStartChoice(best[0], best[1], evaluate(stage, best), evaluate(stage, overall))


def first_items(stage: protocol.Stage) -> protocol.Stage:
    """The same users with their first interaction as the target: what a new user actually did first."""
    firsts = np.array([int(stage.state.history(int(u))[0][0]) for u in stage.users], dtype=np.int64)
    return protocol.Stage(f"{stage.name} (first items)", stage.state, stage.users, firsts)


def apply(state: RecommenderState, choice: ColdStartChoice) -> None:
    state.cold_start_attributes = list(choice.attributes)
    state.cold_start_shrinkage = choice.shrinkage

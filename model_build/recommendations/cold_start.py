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

from commerce_ai.recommendations.features import History, cold_start_scores
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations import protocol

SHRINKAGES = (0.0, 30.0, 100.0, 300.0, 1000.0)


@dataclass(frozen=True)
class ColdStartChoice:
    attributes: tuple[str, ...]  # empty: overall popularity
    shrinkage: float
    segment: protocol.Scores  # the chosen configuration on the validation items
    overall: protocol.Scores  # overall popularity on the same items


def cold_ranker(attributes: tuple[str, ...], shrinkage: float) -> protocol.Ranker:
    """Ranks for a user as if they had no history: the segment popularity of the others."""

    def rank(state: RecommenderState, user: int, history: History, seen: np.ndarray) -> np.ndarray:
        own = (np.bincount(history.items, minlength=state.n_items) > 0).astype(np.float32)  # counts are 0/1
        segment = {name: value for name, value in state.user_segment(user).items() if name in attributes}
        rows = [state.segment_row(name, value) for name, value in segment.items()]
        counts = (
            []
            if state.segment_popularity is None
            else [state.segment_popularity[r] - own for r in rows if r is not None]
        )
        scores = cold_start_scores(state.item_popularity - own, counts, shrinkage)
        return protocol.top_k(scores, np.zeros(state.n_items, dtype=bool))

    return rank


def configurations(attribute_names: list[str]) -> list[tuple[tuple[str, ...], float]]:
    """Overall popularity, then every non-empty subset of the attributes at every shrinkage."""
    subsets = [c for size in range(1, len(attribute_names) + 1) for c in combinations(attribute_names, size)]
    return [((), 0.0)] + [(subset, shrinkage) for subset in subsets for shrinkage in SHRINKAGES]


def choose(stage: protocol.Stage) -> ColdStartChoice:
    """The best configuration by HR@10 on the stage's targets (NDCG@10 breaking ties); overall popularity
    unless a segment beats it."""
    results = {
        config: protocol.evaluate_ranker(stage, cold_ranker(*config))
        for config in configurations(stage.state.attribute_names)
    }
    overall = results[((), 0.0)]
    best = max(results, key=lambda c: (round(results[c].hr, 6), round(results[c].ndcg, 6), -len(c[0])))
    return ColdStartChoice(best[0], best[1], results[best], overall)


def apply(state: RecommenderState, choice: ColdStartChoice) -> None:
    state.cold_start_attributes = list(choice.attributes)
    state.cold_start_shrinkage = choice.shrinkage

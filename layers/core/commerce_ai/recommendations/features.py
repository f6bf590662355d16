"""The one feature code path: what training (model_build/recommendations) and serving (`service`) both call
to turn a user's history into candidates and the ranker's inputs.

A history is the items a user touched, oldest first, each with a weight. The weights fade with position
(`POSITION_DECAY` per newer item), so the newest items dominate; serving appends the session's items after
the long-term ones (see `session.blend`). Candidate scores are sums over the history of each item's
precomputed neighbours (EASE and cosine), weighted by recency ("recent") or evenly ("long").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from commerce_ai.recommendations.state import POSITION_DECAY, RecommenderState

if TYPE_CHECKING:
    import numpy as np

DENSE_FEATURES: list[str] = [
    "ease_recent",
    "ease_long",
    "cosine_recent",
    "cosine_long",
    "log_popularity",
    "log_candidate_rank",
    "category_affinity",
    "log_history_length",
]
RANKER_INPUTS: list[str] = ["user_index", "item_index", "dense", "segments", "categories"]


@dataclass(frozen=True)
class History:
    items: np.ndarray  # int, indices into the state's items, oldest first
    weights: np.ndarray  # float32, the recency weight of each

    @classmethod
    def of(
        cls, items: np.ndarray | list[int], extra_weights: np.ndarray | None = None, decay: float = POSITION_DECAY
    ) -> History:
        """Position-decayed weights (the newest item 1, each older one POSITION_DECAY times the next),
        times `extra_weights` (serving's time decay of session items, 1 elsewhere)."""
        import numpy as np

        items = np.asarray(items, dtype=np.int64)
        weights = decay ** np.arange(len(items) - 1, -1, -1, dtype=np.float64)
        if extra_weights is not None:
            weights = weights * extra_weights
        return cls(items, weights.astype(np.float32))

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class CandidateScores:
    ease_recent: np.ndarray  # float32 [I]
    ease_long: np.ndarray
    cosine_recent: np.ndarray
    cosine_long: np.ndarray


def neighbour_scores(
    neighbours: np.ndarray, weights: np.ndarray, history: History, n_items: int, even: bool = False
) -> np.ndarray:
    """sum over history items h of (h's weight) x (weight of each neighbour of h), as a dense vector."""
    import numpy as np

    scores = np.zeros(n_items, dtype=np.float32)
    if len(history) == 0:
        return scores
    rows = neighbours[history.items]
    contribution = weights[history.items] * (np.float32(1.0 / len(history)) if even else history.weights[:, None])
    valid = rows >= 0
    np.add.at(scores, rows[valid], contribution[valid])
    return scores


def candidate_scores(state: RecommenderState, history: History) -> CandidateScores:
    n = state.n_items
    return CandidateScores(
        ease_recent=neighbour_scores(state.ease_items, state.ease_weights, history, n),
        ease_long=neighbour_scores(state.ease_items, state.ease_weights, history, n, even=True),
        cosine_recent=neighbour_scores(state.similar_items, state.similar_weights, history, n),
        cosine_long=neighbour_scores(state.similar_items, state.similar_weights, history, n, even=True),
    )


def generation_score(state: RecommenderState, scores: CandidateScores) -> np.ndarray:
    """The candidate generator's own score: recency-weighted EASE, popularity breaking ties (and ranking
    alone for a user without history)."""
    import numpy as np

    popularity = np.log1p(state.item_popularity) / max(1.0, float(np.log1p(state.item_popularity.max())))
    return scores.ease_recent + 1e-4 * popularity


def generate_candidates(state: RecommenderState, scores: CandidateScores, excluded: np.ndarray, n: int) -> np.ndarray:
    """The `n` best items by `generation_score`, without the `excluded` ones (a boolean mask)."""
    return best_items(generation_score(state, scores), excluded, n)


def best_items(score: np.ndarray, excluded: np.ndarray, n: int) -> np.ndarray:
    """The `n` items of highest `score`, best first, without the `excluded` ones (a boolean mask)."""
    import numpy as np

    ranked = np.where(excluded, -np.inf, score)
    n = min(n, int((~excluded).sum()))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-ranked, n - 1)[:n]
    return top[np.argsort(-ranked[top], kind="stable")].astype(np.int64)


def category_profile(state: RecommenderState, history: History) -> np.ndarray:
    """The user's recency-weighted share of each category (sums to 1; zeros without history)."""
    import numpy as np

    if len(history) == 0:
        return np.zeros(len(state.category_names), dtype=np.float32)
    profile = (state.item_categories[history.items] * history.weights[:, None]).sum(axis=0)
    total = float(profile.sum())
    return (profile / total).astype(np.float32) if total > 0 else profile.astype(np.float32)


def ranker_inputs(
    state: RecommenderState,
    user: int | None,
    history: History,
    scores: CandidateScores,
    candidates: np.ndarray,
) -> dict[str, np.ndarray]:
    """The ranker's four inputs for one user's candidates (in candidate order; `user` None: unknown)."""
    import numpy as np

    count = len(candidates)
    profile = category_profile(state, history)
    item_categories = state.item_categories[candidates]
    per_item = np.maximum(item_categories.sum(axis=1), 1.0)
    dense = np.column_stack(
        [
            scores.ease_recent[candidates],
            scores.ease_long[candidates],
            scores.cosine_recent[candidates],
            scores.cosine_long[candidates],
            np.log1p(state.item_popularity[candidates]),
            np.log1p(np.arange(count, dtype=np.float32)),
            (item_categories @ profile) / per_item,
            np.full(count, np.log1p(len(history)), dtype=np.float32),
        ]
    ).astype(np.float32)
    return {
        "user_index": np.full(count, 0 if user is None else user + 1, dtype=np.int64),
        "item_index": (candidates + 1).astype(np.int64),
        "dense": dense,
        "segments": np.tile(segment_indices(state, user, profile), (count, 1)),
        "categories": item_categories.astype(np.float32),
    }


def segment_indices(state: RecommenderState, user: int | None, profile: np.ndarray) -> np.ndarray:
    """The user's side of the wide part's crosses: each user attribute's value, then the user's top
    category, as 1-based indices (0: unknown). The ranker crosses each with the item's categories (one
    learnt weight per (value, category) pair: occupation x genre, top genre x genre...)."""
    import numpy as np

    values = [
        int(state.user_attributes[user, a]) + 1 if user is not None else 0 for a in range(len(state.attribute_names))
    ]
    values.append(int(profile.argmax()) + 1 if profile.sum() > 0 else 0)
    return np.asarray(values, dtype=np.int64)


def cold_start_scores(overall: np.ndarray, segments: list[np.ndarray], shrinkage: float) -> np.ndarray:
    """Popularity for a user with no history, one code path for the build's choice and for serving.

    `overall` is each item's interaction count, `segments` the counts within each of the user's segments
    (one row per attribute value they have: age band, gender, occupation...). Each segment's share is
    shrunk toward the overall share, (count + shrinkage x overall share) / (segment total + shrinkage), so
    a small segment leans on the whole shop; the segments' shares are averaged. No segment: overall share.
    Items are the last axis: the build scores many users at once ([users, items] arrays)."""
    import numpy as np

    share = overall / np.maximum(1.0, overall.sum(axis=-1, keepdims=True))
    if not segments:
        return share
    mixed = np.zeros_like(share)
    for counts in segments:
        total = counts.sum(axis=-1, keepdims=True) + shrinkage
        part = (counts + shrinkage * share) / np.maximum(total, 1e-12)
        mixed += np.where(total > 0, part, share)
    mixed /= len(segments)
    return mixed


def cold_start_segment(state: RecommenderState, user: int | None, given: dict[str, str]) -> dict[str, str]:
    """The segment a user with no history is served by: the attribute values the request gives, else those
    the model knows of the user, kept to the attributes the build chose (`state.cold_start_attributes`)
    and to values the model has seen (an unseen value falls back to the others, or to overall popularity)."""
    known = {**state.user_segment(user), **given}
    return {
        name: value
        for name, value in known.items()
        if name in state.cold_start_attributes and state.segment_row(name, value) is not None
    }


def segment_scores(state: RecommenderState, segment: dict[str, str]) -> np.ndarray:
    """`cold_start_scores` of one segment from the state's counts."""
    rows = [state.segment_row(name, value) for name, value in segment.items()]
    counts = [] if state.segment_popularity is None else [state.segment_popularity[r] for r in rows if r is not None]
    return cold_start_scores(state.item_popularity, counts, state.cold_start_shrinkage)

"""The fixed evaluation protocol (issue 13): leave-last-out per user, every item the user has not interacted
with ranked, HR@10 and NDCG@10 over all users, catalogue coverage and intra-list diversity of the top 10.

At the validation stage the models are fitted on the training part and the user's history is that part;
at the test stage they are refitted on training + validation (the validation item becomes the newest
history item), and the items ranked are those the user has not interacted with in either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from commerce_ai.recommendations.features import History
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations.data import Dataset, leave_last_out
from model_build.recommendations.fitting import fit_state

TOP_K = 10
# A method ranks for one user: (state, user index, history, mask of items already seen) -> top-K items.
Ranker = Callable[[RecommenderState, int, History, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Stage:
    """One evaluation stage: the state fitted on what precedes the targets, each user's target item."""

    name: str
    state: RecommenderState
    users: np.ndarray  # user indices into state
    targets: np.ndarray  # item indices, one per user


@dataclass(frozen=True)
class Scores:
    hr: float
    ndcg: float
    hr_ci: tuple[float, float]
    ndcg_ci: tuple[float, float]
    coverage: float
    diversity: float
    users: int

    def as_metrics(self, prefix: str) -> dict[str, float]:
        return {
            f"{prefix}_hr_at_10": round(self.hr, 6),
            f"{prefix}_ndcg_at_10": round(self.ndcg, 6),
            f"{prefix}_coverage": round(self.coverage, 6),
            f"{prefix}_diversity": round(self.diversity, 6),
        }


def stages(dataset: Dataset, which: tuple[str, ...] = ("validation", "test")) -> dict[str, Stage]:
    train, validation, test = leave_last_out(dataset.interactions)
    out: dict[str, Stage] = {}
    for name in which:
        fitted_on = train if name == "validation" else pd.concat([train, validation])
        targets = validation if name == "validation" else test
        state = fit_state(dataset, fitted_on)
        users = np.array([state.user_index(str(u)) for u in targets["user_id"]], dtype=np.int64)
        items = np.array([state.item_index(str(i)) for i in targets["item_id"]], dtype=np.int64)
        out[name] = Stage(name, state, users, items)
    return out


def user_history(state: RecommenderState, user: int) -> tuple[History, np.ndarray]:
    items, _ = state.history(user)
    seen = np.zeros(state.n_items, dtype=bool)
    seen[items] = True
    return History.of(items), seen


def intra_list_diversity(state: RecommenderState, top: np.ndarray) -> float:
    """Mean pairwise (1 - cosine of category vectors) within a list (items without categories count as
    unlike everything)."""
    vectors = state.item_categories[top]
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.maximum(norms, 1e-9)[:, None]
    similarity = unit @ unit.T
    n = len(top)
    if n < 2:
        return 0.0
    off_diagonal = similarity[~np.eye(n, dtype=bool)]
    return float(np.mean(1.0 - off_diagonal))


def bootstrap_ci(values: np.ndarray, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(rounds, len(values)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def evaluate_ranker(stage: Stage, rank: Ranker) -> Scores:
    tops = []
    for user in stage.users:
        history, seen = user_history(stage.state, int(user))
        tops.append(np.asarray(rank(stage.state, int(user), history, seen))[:TOP_K])
    return scores_of(stage, tops)


def scores_of(stage: Stage, tops: list[np.ndarray] | np.ndarray, detailed: bool = True) -> Scores:
    """The metrics of each user's top K (one list per stage user, in order). Not `detailed`: HR@10,
    NDCG@10 and coverage only (a sweep's quick look; intervals collapse to the value, diversity 0)."""
    hits = np.zeros(len(stage.users))
    gains = np.zeros(len(stage.users))
    shown: set[int] = set()
    diversity = np.zeros(len(stage.users))
    if isinstance(tops, np.ndarray) and not detailed:  # a sweep's many full lists: vectorised
        found = tops == stage.targets[:, None]
        hits = found.any(axis=1).astype(np.float64)
        gains = np.where(found, 1.0 / np.log2(np.arange(tops.shape[1]) + 2.0), 0.0).sum(axis=1)
        shown = set(np.unique(tops[tops >= 0]).tolist())
        tops = []
    for n, (top, target) in enumerate(zip(tops, stage.targets, strict=False)):
        shown.update(int(i) for i in top)
        if detailed:
            diversity[n] = intra_list_diversity(stage.state, top)
        where = np.flatnonzero(top == target)
        if len(where):
            hits[n] = 1.0
            gains[n] = 1.0 / np.log2(where[0] + 2)
    hr, ndcg = float(hits.mean()), float(gains.mean())
    return Scores(
        hr=hr,
        ndcg=ndcg,
        hr_ci=bootstrap_ci(hits) if detailed else (hr, hr),
        ndcg_ci=bootstrap_ci(gains) if detailed else (ndcg, ndcg),
        coverage=len(shown) / stage.state.n_items,
        diversity=float(diversity.mean()),
        users=len(stage.users),
    )


def top_k(scores: np.ndarray, seen: np.ndarray, k: int = TOP_K) -> np.ndarray:
    ranked = np.where(seen, -np.inf, scores)
    top = np.argpartition(-ranked, k - 1)[:k]
    return top[np.argsort(-ranked[top], kind="stable")]

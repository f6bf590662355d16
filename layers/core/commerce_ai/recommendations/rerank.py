"""Diversity and exploration: maximal marginal relevance over the ranked candidates, then a reserved share
of the slots for new or under-exposed items.

- **MMR** (Carbonell and Goldstein, 1998): pick, one at a time, the candidate with the best
  `MMR_LAMBDA * relevance - (1 - MMR_LAMBDA) * max similarity to what is already picked`, relevance scaled
  to [0, 1] within the list, similarity the cosine of the items' category vectors. `MMR_LAMBDA` = 1 is the
  ranker's order.
- **Exploration**: `EXPLORATION_SHARE` of the slots (rounded down; none in a list shorter than
  1 / share) go to items nobody, or few, have touched: the least popular `UNDER_EXPOSED_SHARE` of the
  catalogue, best matching the user's categories, so that new items can earn interactions. They take the
  last slots, and say so in their reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


MMR_LAMBDA = 0.8
EXPLORATION_SHARE = 0.1
UNDER_EXPOSED_SHARE = 0.2


def mmr(relevance: np.ndarray, vectors: np.ndarray, n: int, weight: float = MMR_LAMBDA) -> list[int]:
    """Positions (into `relevance`) of the `n` picked, in order."""
    import numpy as np

    count = len(relevance)
    if count == 0 or n <= 0:
        return []
    spread = float(relevance.max() - relevance.min())
    scaled = (relevance - relevance.min()) / spread if spread > 0 else np.ones(count)
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.maximum(norms, 1e-9)[:, None]
    similarity = unit @ unit.T
    picked: list[int] = []
    closest = np.zeros(count)
    available = np.ones(count, dtype=bool)
    for _ in range(min(n, count)):
        value = np.where(available, weight * scaled - (1 - weight) * closest, -np.inf)
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        closest = np.maximum(closest, similarity[best])
    return picked


def exploration_slots(n: int, share: float = EXPLORATION_SHARE) -> int:
    return int(n * share)


def under_exposed(popularity: np.ndarray, share: float = UNDER_EXPOSED_SHARE) -> np.ndarray:
    """Mask of the least popular `share` of items (ties included)."""
    import numpy as np

    if len(popularity) == 0:
        return np.zeros(0, dtype=bool)
    threshold = np.quantile(popularity, share)
    return popularity <= threshold

"""Content neighbours: items described by what they are (their categories and the words of their title),
for items nobody has touched yet, whose collaborative neighbours are empty.

One code path for training and serving: `model_build` computes every item's top content neighbours into the
state with `content_vectors` and `top_similar`; serving describes an item the model has never seen (a
catalogue item added after the last build) with `vector_for` against the same vocabulary, and ranks the
state's items by cosine to it.

A vector is three parts, each scaled to unit length and weighted, then the whole scaled to unit length:
the item's categories (multi-hot), its title words (TF-IDF over the catalogue's titles; words in one title
only are dropped, since they can match nothing), and its image embedding (visual search's CNN vector from
the active `visual-index`, passed by training as `image_embeddings`: `model_build.recommendations.images`).
So the cosine of two items is the weighted mean of their parts' cosines over the parts each has:
sum_p w_p^2 cos_p / (sqrt(sum of w_p^2 over A's parts) * sqrt(... over B's)). With the weights all 1, two
items that both have categories, title words and an image score (cos_categories + cos_title + cos_image) / 3;
a part an item lacks (no image, no shared title word) adds nothing and leaves its norm, so an item without
an image is compared on categories and title alone, and with an imaged item at sqrt(2/3) of that. The
weights are equal and untuned (no held-out judgement of "similar" exists for items nobody has touched).
Serving's `vector_for` (an item added after the build) has no image part: the API never reads the index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

CONTENT_NEIGHBOURS = 20
CATEGORY_WEIGHT = 1.0
TITLE_WEIGHT = 1.0
IMAGE_WEIGHT = 1.0  # visual search's embeddings, where the active visual index holds the item
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what an item is (English articles and particles; MovieLens titles move
# the article to the end: "Godfather, The").
STOPWORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "de", "for", "from", "in", "is", "it", "la", "le", "les", "of", "on"}
    | {"or", "the", "to", "with"}
)


def title_words(title: str) -> list[str]:
    return [w for w in _WORD.findall(title.lower()) if w not in STOPWORDS and len(w) > 1]


def title_vocabulary(titles: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Words in at least two titles, sorted, with their smoothed inverse document frequency."""
    import numpy as np

    counts = Counter(w for title in titles for w in set(title_words(title)))
    words = sorted(w for w, df in counts.items() if df >= 2)
    n = len(titles)
    idf = np.array([np.log((1 + n) / (1 + counts[w])) + 1.0 for w in words], dtype=np.float32)
    return words, idf


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def content_vectors(
    item_categories: np.ndarray,
    titles: Sequence[str],
    vocabulary: Sequence[str],
    idf: np.ndarray,
    image_embeddings: np.ndarray | None = None,
) -> np.ndarray:
    """One unit-length row per item: categories, title TF-IDF and (when given) image embedding, weighted."""
    import numpy as np

    column = {w: j for j, w in enumerate(vocabulary)}
    words = np.zeros((len(titles), len(vocabulary)), dtype=np.float32)
    for i, title in enumerate(titles):
        for w, count in Counter(title_words(title)).items():
            j = column.get(w)
            if j is not None:
                words[i, j] = count * idf[j]
    parts = [CATEGORY_WEIGHT * _unit_rows(item_categories.astype(np.float32)), TITLE_WEIGHT * _unit_rows(words)]
    if image_embeddings is not None:
        parts.append(IMAGE_WEIGHT * _unit_rows(image_embeddings.astype(np.float32)))
    return _unit_rows(np.hstack(parts)).astype(np.float32)


def vector_for(
    categories: Sequence[str],
    title: str,
    category_names: Sequence[str],
    vocabulary: Sequence[str],
    idf: np.ndarray,
) -> np.ndarray:
    """An item the model has never seen, in the state's content space (categories it does not know and
    words outside its vocabulary count for nothing)."""
    import numpy as np

    multi_hot = np.zeros((1, len(category_names)), dtype=np.float32)
    index = {str(c): j for j, c in enumerate(category_names)}
    for category in categories:
        if category in index:
            multi_hot[0, index[category]] = 1.0
    return content_vectors(multi_hot, [title], vocabulary, idf)[0]


def top_similar(vectors: np.ndarray, k: int = CONTENT_NEIGHBOURS, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Each item's k most similar other items by cosine (index, similarity), best first; -1 / 0 pads.
    In row chunks, so a large catalogue never holds the whole items x items matrix."""
    import numpy as np

    n = len(vectors)
    k = max(0, min(k, n - 1))
    items = np.full((n, k), -1, dtype=np.int32)
    weights = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return items, weights
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk] @ vectors.T
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = -np.inf  # never one's own neighbour
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
        keep = values > 0
        items[start : start + len(block)] = np.where(keep, top, -1)
        weights[start : start + len(block)] = np.where(keep, values, 0.0)
    return items, weights


def nearest_to(vector: np.ndarray, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k items most similar to one vector (index, similarity), best first, similarity above 0."""
    import numpy as np

    similarity = vectors @ vector
    k = min(k, len(similarity))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-similarity, k - 1)[:k]
    top = top[np.argsort(-similarity[top], kind="stable")]
    top = top[similarity[top] > 0]
    return top.astype(np.int64), similarity[top].astype(np.float32)

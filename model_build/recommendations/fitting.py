"""Fit the candidate models on a set of interactions: item-item cosine, EASE and popularity, kept as each
item's top neighbours in a `RecommenderState` (what serving reads)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from commerce_ai.recommendations.content import content_vectors, title_vocabulary, top_similar
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations.data import Dataset

NEIGHBOURS = 100
EASE_LAMBDA = 300.0  # the best of 100-1000 on the validation items (reports/recommendations.md, "Tuning")
# EASE inverts an items x items matrix: above this many touched items only cosine neighbours are kept (EASE's
# neighbours are then the cosine ones), which keeps a big user catalogue's build within memory.
EASE_MAX_ITEMS = 8000
# Cold start's shrinkage of a segment's popularity toward the whole shop's, until the build chooses on the
# validation items (`cold_start.choose`).
COLD_START_SHRINKAGE = 100.0


def interaction_matrix(
    interactions: pd.DataFrame, user_index: dict[str, int], item_index: dict[str, int]
) -> np.ndarray:
    matrix = np.zeros((len(user_index), len(item_index)), dtype=np.float32)
    rows = interactions["user_id"].map(user_index).to_numpy()
    cols = interactions["item_id"].map(item_index).to_numpy()
    matrix[rows, cols] = 1.0
    return matrix


def cosine_similarity(matrix: np.ndarray) -> np.ndarray:
    counts = matrix.sum(axis=0)
    norm = np.sqrt(np.maximum(counts, 1e-9))
    similarity = (matrix.T @ matrix) / norm[:, None] / norm[None, :]
    np.fill_diagonal(similarity, 0.0)
    return similarity.astype(np.float32)


def ease_weights(matrix: np.ndarray, regularisation: float = EASE_LAMBDA) -> np.ndarray:
    """EASE (Steck, 2019): B = I - P diagMat(1 / diag(P)), P = (X'X + lambda I)^-1, zero diagonal."""
    gram = (matrix.T @ matrix).astype(np.float64)
    gram[np.diag_indices_from(gram)] += regularisation
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def top_neighbours(weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k largest positive entries (column index, weight), best first; -1 / 0 pads."""
    k = min(k, weights.shape[1])
    top = np.argpartition(-weights, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(weights, top, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    top = np.where(values > 0, top, -1).astype(np.int32)
    return top, np.where(values > 0, values, 0.0).astype(np.float32)


def spread_neighbours(
    found: tuple[np.ndarray, np.ndarray], touched: np.ndarray, n_items: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours found among the touched items (local indices) as rows of every item: indices mapped back,
    untouched items' rows empty, every row `k` wide (-1 / 0 pads)."""
    local, weights = found
    items = np.full((n_items, k), -1, dtype=np.int32)
    values = np.zeros((n_items, k), dtype=np.float32)
    width = local.shape[1]
    items[touched, :width] = np.where(local >= 0, touched[np.maximum(local, 0)], -1)
    values[touched, :width] = weights
    return items, values


# The last content neighbours computed, by what they depend on: the items alone, not the interactions, so
# the fits of one build (training lists, validation, the served state) share them.
_CONTENT_MEMO: dict[str, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]] = {}


def content_neighbours(
    item_categories: np.ndarray, item_titles: Sequence[str], images: np.ndarray | None
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The title vocabulary, its idf and every item's top content neighbours (`content.top_similar`)."""
    key = hashlib.sha256()
    key.update(np.ascontiguousarray(item_categories).tobytes())
    key.update("\x00".join(item_titles).encode())
    key.update(b"" if images is None else np.ascontiguousarray(images).tobytes())
    found = _CONTENT_MEMO.get(key.hexdigest())
    if found is None:
        vocabulary, idf = title_vocabulary(item_titles)
        items, weights = top_similar(content_vectors(item_categories, item_titles, vocabulary, idf, images))
        found = (vocabulary, idf, items, weights)
        _CONTENT_MEMO.clear()
        _CONTENT_MEMO[key.hexdigest()] = found
    vocabulary, idf, items, weights = found
    return list(vocabulary), idf.copy(), items.copy(), weights.copy()


def fit_state(
    dataset: Dataset,
    interactions: pd.DataFrame,
    ease_lambda: float = EASE_LAMBDA,
    neighbours: int = NEIGHBOURS,
) -> RecommenderState:
    """Fit on `interactions` (a subset of the dataset's, e.g. the protocol's training part): every item of
    the dataset is known, every user with interactions has a history."""
    item_ids = list(dict.fromkeys([*dataset.items["item_id"].astype(str), *interactions["item_id"].astype(str)]))
    item_index = {item: i for i, item in enumerate(item_ids)}
    ordered = interactions.assign(_order=np.arange(len(interactions)))
    ordered = ordered.sort_values(["user_id", "timestamp", "_order"], kind="stable")
    # Users and items in the dataset's order whatever the subset, so indices (and the ranker's embeddings)
    # agree between a state fitted on the training part and one fitted on everything.
    user_ids = list(dict.fromkeys([*dataset.users["user_id"].astype(str), *ordered["user_id"].astype(str)]))
    user_index = {user: u for u, user in enumerate(user_ids)}
    ordered = ordered.assign(_user=ordered["user_id"].astype(str).map(user_index))
    ordered = ordered.sort_values(["_user", "timestamp", "_order"], kind="stable")
    # The collaborative models see only the items someone touched: an untouched item has no neighbours
    # and is nobody's, so leaving it out changes nothing, and a shop's catalogue (visual search's 60,000
    # items beside a few thousand with behaviour) never becomes an items x items matrix.
    touched = np.array(sorted({item_index[i] for i in ordered["item_id"].astype(str)}), dtype=np.int64)
    matrix = interaction_matrix(ordered, user_index, {item_ids[t]: n for n, t in enumerate(touched)})

    k = min(neighbours, len(item_ids))

    def neighbours_of(weights: Callable[[], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        found = top_neighbours(weights(), k) if len(touched) else (np.zeros((0, 0), np.int32), np.zeros((0, 0)))
        return spread_neighbours(found, touched, len(item_ids), k)

    similar_items, similar_weights = neighbours_of(lambda: cosine_similarity(matrix))
    if len(touched) <= EASE_MAX_ITEMS:
        ease_items, ease_weights_top = neighbours_of(lambda: ease_weights(matrix, ease_lambda))
    else:
        ease_items, ease_weights_top = similar_items, similar_weights

    categories = sorted({c for cats in dataset.items["categories"] for c in cats})
    category_index = {c: j for j, c in enumerate(categories)}
    item_categories = np.zeros((len(item_ids), len(categories)), dtype=np.float32)
    titles = dict(zip(dataset.items["item_id"].astype(str), dataset.items["title"].astype(str), strict=True))
    for item, cats in zip(dataset.items["item_id"].astype(str), dataset.items["categories"], strict=True):
        for c in cats:
            item_categories[item_index[item], category_index[c]] = 1.0

    first_seen = ordered.groupby("item_id")["timestamp"].min()
    item_first_seen = np.array([float(first_seen.get(i, np.nan)) for i in item_ids])
    trained_until = float(ordered["timestamp"].max()) if len(ordered) else 0.0
    item_first_seen = np.where(np.isnan(item_first_seen), trained_until, item_first_seen)

    sizes = np.bincount(ordered["_user"].to_numpy(), minlength=len(user_ids))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    attributes = dataset.attribute_names
    users = dataset.users.astype(str).set_index("user_id").reindex(user_ids)
    vocabularies = [sorted(dataset.users[a].dropna().astype(str).unique()) for a in attributes]
    user_attributes = np.full((len(user_ids), len(attributes)), -1, dtype=np.int32)
    for a, (name, vocabulary) in enumerate(zip(attributes, vocabularies, strict=True)):
        lookup = {v: j for j, v in enumerate(vocabulary)}
        user_attributes[:, a] = [lookup.get(v, -1) for v in users[name].fillna("")]

    segment_popularity = np.zeros((sum(len(v) for v in vocabularies), len(item_ids)), dtype=np.float32)
    row = 0
    for a, vocabulary in enumerate(vocabularies):
        for j in range(len(vocabulary)):
            segment_popularity[row, touched] = matrix[user_attributes[:, a] == j].sum(axis=0)
            row += 1
    item_popularity = np.zeros(len(item_ids), dtype=np.float32)
    item_popularity[touched] = matrix.sum(axis=0)

    item_titles = [titles.get(i, i) for i in item_ids]
    images = dataset.images.for_items(item_ids) if dataset.images is not None else None
    vocabulary, idf, content_items, content_weights = content_neighbours(item_categories, item_titles, images)

    return RecommenderState(
        item_ids=np.array(item_ids, dtype=str),
        item_titles=np.array(item_titles, dtype=str),
        category_names=np.array(categories, dtype=str),
        item_categories=item_categories,
        item_popularity=item_popularity,
        item_first_seen=item_first_seen.astype(np.float64),
        similar_items=similar_items,
        similar_weights=similar_weights,
        ease_items=ease_items,
        ease_weights=ease_weights_top,
        user_ids=np.array(user_ids, dtype=str),
        history_offsets=offsets,
        history_items=ordered["item_id"].map(item_index).to_numpy().astype(np.int32),
        history_times=ordered["timestamp"].to_numpy().astype(np.float64),
        attribute_names=attributes,
        attribute_values=vocabularies,
        user_attributes=user_attributes,
        trained_until=trained_until,
        source=dataset.source,
        segment_popularity=segment_popularity,
        cold_start_attributes=list(attributes),
        cold_start_shrinkage=COLD_START_SHRINKAGE,
        content_items=content_items,
        content_weights=content_weights,
        title_vocabulary=vocabulary,
        title_idf=idf,
    )

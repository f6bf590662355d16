"""Precision@10 by category: of a query's 10 nearest catalogue items (cosine), the share in its category."""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = vectors.astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def nearest(queries: np.ndarray, catalogue: np.ndarray, k: int = 10, chunk: int = 1000) -> np.ndarray:
    """Exact top-k by inner product, [n_queries, k] catalogue positions."""
    out = []
    for start in range(0, len(queries), chunk):
        scores = queries[start : start + chunk] @ catalogue.T
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        out.append(np.take_along_axis(top, order, axis=1))
    return np.concatenate(out)


def precision_at_k(
    queries: np.ndarray, query_labels: np.ndarray, catalogue: np.ndarray, catalogue_labels: np.ndarray, k: int = 10
) -> tuple[float, np.ndarray]:
    """(mean P@k, per query P@k) with cosine similarity."""
    found = nearest(normalised(queries), normalised(catalogue), k)
    per_query = (catalogue_labels[found] == query_labels[:, None]).mean(axis=1)
    return float(per_query.mean()), per_query


def timed_recall(searcher: Any, queries: np.ndarray, truth: np.ndarray, k: int = 10) -> tuple[float, list[float]]:
    """A searcher's recall@k against exact neighbours `truth`, and each query's search time in seconds."""
    hits, times = 0, []
    for query, row in zip(queries, truth, strict=True):
        started = time.perf_counter()
        found, _ = searcher.search(query, k)
        times.append(time.perf_counter() - started)
        hits += len(set(found) & set(row))
    return hits / (k * len(queries)), times

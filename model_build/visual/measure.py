"""The built `visual-index` measured as it serves: `python -m model_build.visual.measure [directory]`
(default `build/models/visual/visual-index`, what `commerce-ai train visual` leaves).

- Precision@10 by category of all 10,000 held-out test images against the 60,000 catalogue items, the
  queries embedded by the artifact's own `embedder.onnx` (ONNX Runtime, as serving runs it) and ranked
  against its stored catalogue vectors: exactly (cosine), and through the served search (`VisualIndex.search`:
  IVF-PQ, then the exact re-rank of the short list), with 95% Wilson intervals.
- The index goals at 100,000 items for the shipped settings: the catalogue vectors replicated with jitter
  (`report.replicate`, as the sweep and the benchmark), recall@10 against exact search on 500 held-out
  queries, p50 query time (one thread) and the serialized index against a flat float32 index.

A quicker check than `make eval` (which also runs the fine-tuning study and the whole index sweep).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.images import catalogue_batch
from commerce_ai.visual.index import (
    EMBEDDER_FILE,
    EMBEDDING,
    INDEX_FILE,
    VECTORS_FILE,
    Entries,
    IndexSettings,
    VisualIndex,
)
from model_build.visual.data import read_fashion_mnist
from model_build.visual.embedder import run_batches
from model_build.visual.metrics import nearest, normalised, precision_at_k, timed_recall
from model_build.visual.report import REPLICATED, SWEEP_QUERIES, replicate, wilson

DEFAULT = Path("build/models/visual/visual-index")


def served_precision(directory: Path) -> dict[str, Any]:
    import faiss

    data = read_fashion_mnist()
    vectors = np.load(directory / VECTORS_FILE)
    queries = run_batches(directory / EMBEDDER_FILE, catalogue_batch(data.test.images), EMBEDDING)
    labels, catalogue_labels = data.test.labels, data.train.labels
    exact, per_query = precision_at_k(queries, labels, vectors, catalogue_labels)
    index: Any = faiss.read_index(str(directory / INDEX_FILE))
    settings = IndexSettings(**json.loads((directory / "items.json").read_text())["settings"])
    index.nprobe = settings.nprobe
    searcher = VisualIndex(index, vectors, Entries([], []), settings, "", None)
    through_index = np.array(
        [
            (catalogue_labels[searcher.search(query, 10)[0]] == label).mean()
            for query, label in zip(queries, labels, strict=True)
        ]
    )
    n = len(labels) * 10
    return {
        "exact": (exact, wilson(exact, n)),
        "served_search": (float(through_index.mean()), wilson(float(through_index.mean()), n)),
        "by_category": {c: float(per_query[labels == i].mean()) for i, c in enumerate(CATEGORIES)},
        "queries": queries,
        "vectors": vectors,
        "settings": settings,
    }


def index_goals(vectors: np.ndarray, queries: np.ndarray, settings: IndexSettings) -> dict[str, float]:
    import faiss

    from commerce_ai.visual.index import build_ivfpq

    big = replicate(vectors, REPLICATED)
    held_out = normalised(queries[:SWEEP_QUERIES])
    truth = nearest(held_out, big, 10)
    index = build_ivfpq(big, settings)
    searcher = VisualIndex(index, big, Entries([], []), settings, "", None)
    recall, times = timed_recall(searcher, held_out, truth)
    return {
        "recall_at_10": recall,
        "p50_ms": float(np.median(times)) * 1000,
        "memory_ratio": len(faiss.serialize_index(index)) / big.nbytes,
    }


def main(argv: list[str]) -> int:
    import faiss

    faiss.omp_set_num_threads(1)
    directory = Path(argv[0]) if argv else DEFAULT
    measured = served_precision(directory)
    for name in ("exact", "served_search"):
        value, (low, high) = measured[name]
        print(f"P@10 {name}: {value:.4f} (95% interval {low:.4f}-{high:.4f})")
    print("by category: " + ", ".join(f"{c} {v:.3f}" for c, v in measured["by_category"].items()))
    goals = index_goals(measured["vectors"], measured["queries"], measured["settings"])
    print(
        f"at {REPLICATED:,} items: recall@10 {goals['recall_at_10']:.4f}, p50 {goals['p50_ms']:.3f} ms,"
        f" memory {goals['memory_ratio']:.3f} of flat"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

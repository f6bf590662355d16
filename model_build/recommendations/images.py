"""Visual search's image embeddings for the content neighbours (`commerce_ai.recommendations.content`).

A retrain that reads the shop's catalogue (the daily `RecommendationsRetrainFunction`, and `commerce-ai
train recommendations` on the archive) asks the registry for the active `visual-index` through the platform's
`ModelLoader` with visual search's own opener (`commerce_ai.visual.index.open_faiss`, which verifies the
version), and takes the stored embedding of every item the index holds. Only training reads them: the
content neighbours are precomputed into the state, so `RecommendationsApiFunction` needs neither faiss nor the
index (an item added after the build is still described by its categories and title alone).

Items added to visual search after its index was built (its add-log) are not read: they get their image part
at visual search's next rebuild and the retrain after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from commerce_ai.errors import ModelUnavailable


class IndexLoader(Protocol):
    """What is read of a `ModelLoader[VisualIndex]`: `.get().model` has `entries.item_ids` and `vectors`."""

    def get(self) -> Any: ...


@dataclass(frozen=True)
class ImageVectors:
    """Embeddings for the items that have one (rows in `item_ids` order, L2-normalised by visual search)."""

    item_ids: list[str]
    vectors: np.ndarray  # float32 [len(item_ids), d]
    version: str

    def for_items(self, wanted: Sequence[str]) -> np.ndarray | None:
        """One row per item of `wanted`, zeros where an item has no image; None when none of them has one."""
        position = {item: i for i, item in enumerate(self.item_ids)}
        rows = np.zeros((len(wanted), self.vectors.shape[1]), dtype=np.float32)
        found = [(n, position[item]) for n, item in enumerate(wanted) if item in position]
        if not found:
            return None
        at, source = zip(*found, strict=True)
        rows[list(at)] = self.vectors[list(source)]
        return rows


def visual_index_loader(registry: Any, store: Any, cache_dir: Path) -> Any:
    """The platform's loader for the active `visual-index`, opened by visual search's own opener."""
    from commerce_ai.artifacts.loader import ModelLoader
    from commerce_ai.visual.index import MODEL_NAME, open_faiss

    return ModelLoader(
        MODEL_NAME, registry=registry, store=store, opener=open_faiss, refresh_seconds=0, cache_dir=cache_dir
    )


def image_vectors(loader: IndexLoader, items: Sequence[str]) -> ImageVectors | None:
    """The embeddings of those of `items` the active visual index holds; None without an active, readable
    index or when it holds none of them (content neighbours then use categories and titles only)."""
    try:
        loaded = loader.get()
    except ModelUnavailable:
        return None
    index = loaded.model
    wanted = set(items)
    rows = [i for i, item in enumerate(index.entries.item_ids) if item in wanted]
    if not rows:
        return None
    vectors = np.asarray(index.vectors[rows], dtype=np.float32)  # a copy out of the memory map
    return ImageVectors([str(index.entries.item_ids[i]) for i in rows], vectors, str(loaded.version))

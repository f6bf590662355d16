"""Search the index and the add-log together, with filters: the domain logic behind every route."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from commerce_ai.visual.deltas import Delta
from commerce_ai.visual.descriptors import COLOURS, SHAPES, TEXTURES
from commerce_ai.visual.index import VisualIndex

if TYPE_CHECKING:
    import numpy as np

FILTERED_DEPTH = 2000  # candidates read from the index when filters may drop most of them


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    colour: str | None = None
    shape: str | None = None
    texture: str | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.category, self.colour, self.shape, self.texture))

    def applied(self) -> dict[str, str]:
        named = {"category": self.category, "colour": self.colour, "shape": self.shape, "texture": self.texture}
        return {k: v for k, v in named.items() if v is not None}

    def accepts(self, category: str, colour: int, shape: int, texture: int) -> bool:
        return (
            (self.category is None or category == self.category)
            and (self.colour is None or COLOURS[colour] == self.colour)
            and (self.shape is None or SHAPES[shape] == self.shape)
            and (self.texture is None or TEXTURES[texture] == self.texture)
        )


@dataclass(frozen=True)
class Hit:
    item_id: str
    category: str
    score: float
    colour: str
    shape: str
    texture: str


@dataclass
class Deltas:
    """The add-log as search reads it: newest entry per item, with its vectors stacked."""

    entries: list[Delta]
    vectors: np.ndarray  # float32 [len(entries), d]

    @classmethod
    def of(cls, deltas: Sequence[Delta], dimension: int) -> Deltas:
        import numpy as np

        usable = [d for d in deltas if d.embedding.shape == (dimension,)]
        matrix = np.stack([d.embedding for d in usable]) if usable else np.zeros((0, dimension), dtype=np.float32)
        return cls(usable, matrix.astype(np.float32))

    def ids(self) -> set[str]:
        return {d.item_id for d in self.entries}


def search(
    index: VisualIndex,
    deltas: Deltas,
    query: np.ndarray,
    n: int,
    filters: Filters,
    exclude: str | None = None,
) -> list[Hit]:
    """The `n` best items for `query` (an L2-normalised embedding) among the index and the add-log, that pass
    `filters`; an item in the add-log is scored by its logged image (it replaces the indexed one)."""
    depth = FILTERED_DEPTH if filters.any() else n + 1 + len(deltas.entries)
    positions, scores = index.search(query, min(depth, max(1, len(index.entries))))
    replaced = deltas.ids()
    codes = index.entries.codes
    hits: list[Hit] = []
    for position, score in zip(positions, scores, strict=True):
        item_id = index.entries.item_ids[position]
        category = index.entries.categories[position]
        colour, shape, texture = (int(codes[k][position]) for k in ("colour", "shape", "texture"))
        if item_id in replaced or item_id == exclude or not filters.accepts(category, colour, shape, texture):
            continue
        hits.append(Hit(item_id, category, float(score), COLOURS[colour], SHAPES[shape], TEXTURES[texture]))
    if deltas.entries:
        for delta, score in zip(deltas.entries, deltas.vectors @ query, strict=True):
            if delta.item_id != exclude and filters.accepts(delta.category, delta.colour, delta.shape, delta.texture):
                hits.append(
                    Hit(
                        delta.item_id,
                        delta.category,
                        float(score),
                        COLOURS[delta.colour],
                        SHAPES[delta.shape],
                        TEXTURES[delta.texture],
                    )
                )
    hits.sort(key=lambda h: -h.score)
    return hits[:n]


def vector_of(index: VisualIndex, deltas: Deltas, item_id: str) -> np.ndarray | None:
    """An item's embedding: its logged image's, else the index's; None if neither knows it."""
    import numpy as np

    for delta, vector in zip(deltas.entries, deltas.vectors, strict=True):
        if delta.item_id == item_id:
            return vector
    position = index.positions.get(item_id)
    return None if position is None else np.asarray(index.vectors[position], dtype=np.float32)

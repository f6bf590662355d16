"""The recommender's side data, shipped beside the ranker's ONNX file in the same artifact version.

Everything serving needs besides the ranker: the items (ids, titles, categories, popularity, when each was
first seen), each item's nearest neighbours by cosine (similar items, "because you viewed X") and by EASE
(candidate scores), the users' long-term histories and attributes (the wide part's crosses). Arrays go in
`state.npz` (no pickles), scalars and names in `state.json`. The same object is what training computes
features from, so training and serving read one structure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from commerce_ai.recommendations.content import ContentVectors


STATE_ARRAYS = "state.npz"
STATE_META = "state.json"

# How fast a history item's weight fades with each newer item (position decay): the best of 0.5-1.0 for
# the candidate generator on the validation items (reports/recommendations.md, "Tuning").
POSITION_DECAY = 0.9


@dataclass
class RecommenderState:
    item_ids: np.ndarray  # str [I]
    item_titles: np.ndarray  # str [I]
    category_names: np.ndarray  # str [C]
    item_categories: np.ndarray  # float32 [I, C], multi-hot
    item_popularity: np.ndarray  # float32 [I], interactions in the training data
    item_first_seen: np.ndarray  # float64 [I], unix time of the first interaction (or catalogue entry)
    similar_items: np.ndarray  # int32 [I, K] cosine neighbours, best first (-1: none)
    similar_weights: np.ndarray  # float32 [I, K]
    ease_items: np.ndarray  # int32 [I, K] items item i's presence raises most under EASE (-1: none)
    ease_weights: np.ndarray  # float32 [I, K]
    user_ids: np.ndarray  # str [U]
    history_offsets: np.ndarray  # int64 [U + 1]; user u's history is history_items[offsets[u]:offsets[u+1]]
    history_items: np.ndarray  # int32, oldest first per user
    history_times: np.ndarray  # float64, unix seconds
    attribute_names: list[str]  # user attributes crossed with categories in the wide part (may be empty)
    attribute_values: list[list[str]]  # per attribute, its vocabulary
    user_attributes: np.ndarray  # int32 [U, A], index into each vocabulary, -1 unknown
    trained_until: float = 0.0  # unix time of the newest training interaction
    source: str = ""
    # Cold start (users with no history): interactions per (attribute value, item), one row per value of
    # each attribute in order (`segment_row`), and which attributes and how much shrinkage toward overall
    # popularity the build chose on the validation items (`features.cold_start_scores`).
    segment_popularity: np.ndarray | None = None  # float32 [sum of vocabulary sizes, I]
    cold_start_attributes: list[str] = field(default_factory=list)
    cold_start_shrinkage: float = 0.0
    # Content neighbours (`content`): each item's nearest items by categories and title words, and the
    # title vocabulary an item the model has never seen is described with.
    content_items: np.ndarray | None = None  # int32 [I, K] (-1: none)
    content_weights: np.ndarray | None = None  # float32 [I, K]
    title_vocabulary: list[str] = field(default_factory=list)
    title_idf: np.ndarray | None = None  # float32 [V]
    _item_index: dict[str, int] = field(default_factory=dict, repr=False)
    _user_index: dict[str, int] = field(default_factory=dict, repr=False)
    _content: ContentVectors | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._item_index = {str(item): i for i, item in enumerate(self.item_ids)}
        self._user_index = {str(user): u for u, user in enumerate(self.user_ids)}

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    def item_index(self, item_id: str) -> int | None:
        return self._item_index.get(item_id)

    def user_index(self, user_id: str) -> int | None:
        return self._user_index.get(user_id)

    def history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """The user's long-term history (items, times), oldest first."""
        start, end = int(self.history_offsets[user]), int(self.history_offsets[user + 1])
        return self.history_items[start:end], self.history_times[start:end]

    def primary_category(self) -> np.ndarray:
        """Each item's first category (-1 without one): what reasons and category diversity name."""
        import numpy as np

        has = self.item_categories.sum(axis=1) > 0
        return np.where(has, self.item_categories.argmax(axis=1), -1)

    def segment_row(self, attribute: str, value: str) -> int | None:
        """The row of `segment_popularity` for one attribute value (None: unknown attribute or value)."""
        if attribute not in self.attribute_names:
            return None
        a = self.attribute_names.index(attribute)
        values = self.attribute_values[a]
        if value not in values:
            return None
        return sum(len(v) for v in self.attribute_values[:a]) + values.index(value)

    def user_segment(self, user: int | None) -> dict[str, str]:
        """The attribute values the model knows of a user (empty for an unknown user)."""
        if user is None:
            return {}
        return {
            name: self.attribute_values[a][int(self.user_attributes[user, a])]
            for a, name in enumerate(self.attribute_names)
            if int(self.user_attributes[user, a]) >= 0
        }

    def content_matrix(self) -> ContentVectors:
        """Every item's content vector, sparse (computed on first use, for items the model has never seen)."""
        import numpy as np

        from commerce_ai.recommendations.content import content_vectors

        if self._content is None:
            idf = self.title_idf if self.title_idf is not None else np.zeros(0, dtype=np.float32)
            self._content = content_vectors(
                self.item_categories, [str(t) for t in self.item_titles], self.title_vocabulary, idf
            )
        return self._content

    def segment_sizes(self) -> list[int]:
        """Vocabulary sizes of the wide part's user side (1-based, 0 unknown): each attribute, then the
        user's top category."""
        return [len(values) + 1 for values in self.attribute_values] + [len(self.category_names) + 1]

    def save(self, directory: Path) -> list[Path]:
        import numpy as np

        directory.mkdir(parents=True, exist_ok=True)
        arrays = {
            name: getattr(self, name)
            for name in (
                "item_ids",
                "item_titles",
                "category_names",
                "item_categories",
                "item_popularity",
                "item_first_seen",
                "similar_items",
                "similar_weights",
                "ease_items",
                "ease_weights",
                "user_ids",
                "history_offsets",
                "history_items",
                "history_times",
                "user_attributes",
                "segment_popularity",
                "content_items",
                "content_weights",
                "title_idf",
            )
            if getattr(self, name) is not None
        }
        arrays_path = directory / STATE_ARRAYS
        with arrays_path.open("wb") as out:
            np.savez_compressed(out, **arrays)
        meta: dict[str, Any] = {
            "attribute_names": self.attribute_names,
            "attribute_values": self.attribute_values,
            "trained_until": self.trained_until,
            "source": self.source,
            "cold_start_attributes": self.cold_start_attributes,
            "cold_start_shrinkage": self.cold_start_shrinkage,
            "title_vocabulary": self.title_vocabulary,
        }
        meta_path = directory / STATE_META
        meta_path.write_text(json.dumps(meta, sort_keys=True))
        return [arrays_path, meta_path]

    @classmethod
    def load(cls, directory: Path) -> RecommenderState:
        import numpy as np

        meta = json.loads((directory / STATE_META).read_text())
        with np.load(directory / STATE_ARRAYS, allow_pickle=False) as arrays:
            loaded = {name: arrays[name] for name in arrays.files}
        return cls(**loaded, **meta)

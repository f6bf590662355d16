"""Visual search's image embeddings in the content neighbours (read through a loader, here a tiny fake of
the platform's `ModelLoader[VisualIndex]`), and the session-weighting replay of `make eval`: its split of
each user's last session and the blend's weight."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from commerce_ai.errors import ModelUnavailable
from commerce_ai.recommendations import engine
from commerce_ai.recommendations.session import SessionState
from model_build.recommendations.data import Dataset
from model_build.recommendations.fitting import fit_state
from model_build.recommendations.images import ImageVectors, image_vectors
from model_build.recommendations.protocol import Scores
from model_build.recommendations.replay import MIN_LONG_TERM, Replay, choose, last_sessions, session_state


@dataclass
class Entries:
    item_ids: list[str]


@dataclass
class FakeIndex:  # what `commerce_ai.visual.index.VisualIndex` offers the reader
    entries: Entries
    vectors: np.ndarray


@dataclass
class Loaded:
    model: Any
    version: str = "v-visual"


class FakeLoader:
    def __init__(self, index: FakeIndex | None) -> None:
        self.index = index

    def get(self) -> Loaded:
        if self.index is None:
            raise ModelUnavailable("model 'visual-index' is unavailable (no active version)")
        return Loaded(self.index)


# Four shirts with the same title words and category: only their pictures tell them apart.
PICTURES = {"s-1": [1.0, 0.0], "s-2": [0.9, 0.1], "s-3": [0.0, 1.0], "s-4": [0.1, 0.9]}


def shirts(images: ImageVectors | None) -> Dataset:
    items = pd.DataFrame([(i, "Plain shirt", ["Shirt"]) for i in PICTURES], columns=["item_id", "title", "categories"])
    items.loc[len(items)] = ["b-1", "Plain book", ["Book"]]  # no picture
    interactions = pd.DataFrame(
        [("u-1", "b-1", 1.0, "view")], columns=["user_id", "item_id", "timestamp", "event_type"]
    )
    return Dataset(interactions, items, pd.DataFrame({"user_id": ["u-1"]}), "shirts", images)


def test_image_vectors_come_from_the_active_index_and_only_for_known_items() -> None:
    index = FakeIndex(Entries(["s-1", "s-3", "x-9"]), np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32))
    found = image_vectors(FakeLoader(index), ["s-1", "s-3", "b-1"])
    assert found is not None and found.item_ids == ["s-1", "s-3"] and found.version == "v-visual"
    rows = found.for_items(["b-1", "s-3"])
    assert rows is not None and rows.tolist() == [[0.0, 0.0], [0.0, 1.0]]  # zeros: no picture
    assert image_vectors(FakeLoader(None), ["s-1"]) is None  # no active visual index: titles and categories only
    assert image_vectors(FakeLoader(index), ["b-1"]) is None


def test_content_neighbours_follow_the_pictures_when_the_text_is_the_same() -> None:
    vectors = np.array(list(PICTURES.values()), dtype=np.float32)
    images = image_vectors(FakeLoader(FakeIndex(Entries(list(PICTURES)), vectors)), [*PICTURES, "b-1"])
    with_images = fit_state(shirts(images), shirts(images).interactions)
    index = {str(item): n for n, item in enumerate(with_images.item_ids)}
    assert with_images.content_items is not None and with_images.content_weights is not None
    assert with_images.content_items[index["s-1"], 0] == index["s-2"]
    assert with_images.content_items[index["s-3"], 0] == index["s-4"]
    # the documented blend: (cos categories + cos title + cos image) / 3 for two items with all three parts
    cosine = float(vectors[0] @ vectors[1] / np.linalg.norm(vectors[1]))
    assert with_images.content_weights[index["s-1"], 0] == pytest.approx((1 + 1 + cosine) / 3, abs=1e-5)
    without = fit_state(shirts(None), shirts(None).interactions)
    assert without.content_weights is not None
    assert without.content_weights[index["s-1"], :3] == pytest.approx([1.0, 1.0, 1.0])  # the text cannot tell


def test_the_replay_takes_each_users_last_session_before_the_test_item() -> None:
    long_term = [(f"old-{k}", 1_000.0 + k * 86_400) for k in range(MIN_LONG_TERM + 1)]
    session = [("s-1", 900_000.0), ("s-2", 900_600.0), ("s-3", 901_200.0)]
    rows = [("u-1", item, at) for item, at in [*long_term, *session, ("t", 990_000.0)]]
    rows += [("u-2", f"i-{k}", float(k)) for k in range(MIN_LONG_TERM)]  # too few: kept whole, not replayed
    split = last_sessions(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]))
    assert split.sessions == {"u-1": session}  # 10 minutes apart; the day-old interaction before is not in it
    assert split.targets == {"u-1": ("t", 990_000.0)}
    assert split.before[split.before["user_id"] == "u-1"]["item_id"].tolist() == [i for i, _ in long_term]
    assert len(split.before[split.before["user_id"] == "u-2"]) == MIN_LONG_TERM
    state = session_state("u-1", session)  # through the consumer's apply_event
    assert [i for i, _ in state.recent] == ["s-1", "s-2", "s-3"] and set(state.excluded) == {"s-1", "s-2", "s-3"}


def test_the_validation_replay_ends_before_the_validation_item_and_never_sees_the_test_item() -> None:
    long_term = [(f"old-{k}", 1_000.0 + k * 86_400) for k in range(MIN_LONG_TERM + 1)]
    session = [("s-1", 900_000.0), ("s-2", 900_600.0)]
    rows = [("u-1", item, at) for item, at in [*long_term, *session, ("v", 900_900.0), ("t", 990_000.0)]]
    split = last_sessions(pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]), target="validation")
    assert split.sessions == {"u-1": session} and split.targets == {"u-1": ("v", 900_900.0)}
    assert "t" not in set(split.before["item_id"]) and "v" not in set(split.before["item_id"])


def test_the_served_session_weight_is_the_validation_replays_best() -> None:
    def scores(hr: float, ndcg: float) -> Scores:
        return Scores(hr, ndcg, (hr, hr), (ndcg, ndcg), 0.0, 0.0, 10)

    found = {0.0: scores(0.1, 0.05), 1.0: scores(0.2, 0.10), 2.0: scores(0.2, 0.11), 4.0: scores(0.2, 0.11)}
    assert choose(Replay("validation", found, {}, found, 10, 5, np.zeros(10), 1.0)) == 2.0  # a tie: the lighter


def test_the_session_weight_scales_the_blend_and_zero_is_the_model_alone() -> None:
    from tests.unit.recommendations.test_cold_start_and_content import tiny_shop

    shop = tiny_shop()
    state = fit_state(shop, shop.interactions)
    session = SessionState(recent=[("m-4", 1_000.0), ("m-5", 1_000.0)])
    served, count = engine.user_history(state, "u-0", session, 1_000.0, session_weight=1.0)
    model_alone, none = engine.user_history(state, "u-0", session, 1_000.0, session_weight=0.0)
    doubled, _ = engine.user_history(state, "u-0", session, 1_000.0, session_weight=2.0)
    long_term = len(state.history(state.user_index("u-0"))[0])
    assert (count, none) == (2, 0) and len(model_alone) == long_term and len(served) == long_term + 2
    assert doubled.weights[-2:] == pytest.approx(2 * served.weights[-2:])
    default, _ = engine.user_history(state, "u-0", session, 1_000.0)  # as served: engine.SESSION_WEIGHT
    assert default.weights[-2:] == pytest.approx(engine.SESSION_WEIGHT * served.weights[-2:])
    assert doubled.weights[:-2] == pytest.approx(served.weights[:-2])

"""Reading the data: MovieLens from the recbole wheel (checksums), a user's files, and the protocol's split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commerce_ai.recommendations.features import History, candidate_scores
from model_build.recommendations.data import DataProblem, leave_last_out, read_movielens, read_user_files
from model_build.recommendations.fitting import cosine_similarity, ease_weights, top_neighbours


def test_movielens_is_read_whole_and_verified() -> None:
    data = read_movielens()
    assert len(data.interactions) == 100_000
    assert data.interactions["user_id"].nunique() == 943 and len(data.items) == 1682
    assert data.attribute_names == ["occupation", "gender", "age_band"]
    toy_story = data.items.set_index("item_id").loc["1"]
    assert toy_story["title"] == "Toy Story (1995)" and toy_story["categories"] == ["Animation", "Children's", "Comedy"]


def test_the_split_keeps_ties_in_file_order() -> None:
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u", "u", "u", "v", "v"],
            "item_id": ["a", "b", "c", "d", "x", "y"],
            "timestamp": [1.0, 5.0, 5.0, 5.0, 1.0, 2.0],
            "event_type": "rating",
        }
    )
    train, validation, test = leave_last_out(frame)
    assert list(train[train.user_id == "u"].item_id) == ["a", "b"]
    assert list(validation.item_id) == ["c"] and list(test.item_id) == ["d"]  # the file's order breaks ties
    assert list(train[train.user_id == "v"].item_id) == ["x", "y"]  # two interactions: all training


def test_a_users_files_are_read_and_problems_named(tmp_path: Path) -> None:
    interactions = tmp_path / "interactions.csv"
    interactions.write_text(
        "user_id,item_id,timestamp,event_type\nu,a,2026-12-01T10:00:00Z,view\nu,b,2026-12-01T10:01:00Z,impression\n"
    )
    items = tmp_path / "items.csv"
    items.write_text("item_id,title,category,price\na,Apple,fruit|food,1.5\n")
    data = read_user_files(interactions, items)
    assert list(data.interactions.item_id) == ["a"]  # an impression is not an interaction
    assert data.items.loc[0, "categories"] == ["fruit", "food"]
    (tmp_path / "bad.csv").write_text("user,item_id,timestamp\nu,a,1\n")
    with pytest.raises(DataProblem, match="missing column"):
        read_user_files(tmp_path / "bad.csv")


def test_cosine_and_ease_neighbours() -> None:
    matrix = np.array([[1, 1, 0], [1, 1, 0], [0, 1, 1]], dtype=np.float32)
    similarity = cosine_similarity(matrix)
    assert similarity[0, 1] == pytest.approx(2 / np.sqrt(2 * 3)) and similarity[0, 0] == 0
    items, weights = top_neighbours(similarity, 2)
    assert items[0].tolist() == [1, -1] and weights[0, 1] == 0  # item 2 shares no user with item 0
    assert np.all(np.diag(ease_weights(matrix, 1.0)) == 0)


def test_recency_weights_make_the_newest_item_count_most() -> None:
    history = History.of([0, 1, 2])
    assert history.weights.tolist() == pytest.approx([0.81, 0.9, 1.0])
    assert History.of([0, 1], decay=0.5).weights.tolist() == [0.5, 1.0]
    assert len(History.of([])) == 0


def test_candidate_scores_sum_the_histories_neighbours() -> None:
    from commerce_ai.recommendations.state import RecommenderState

    state = RecommenderState(
        item_ids=np.array(["a", "b", "c"]),
        item_titles=np.array(["A", "B", "C"]),
        category_names=np.array(["k"]),
        item_categories=np.ones((3, 1), dtype=np.float32),
        item_popularity=np.ones(3, dtype=np.float32),
        item_first_seen=np.zeros(3),
        similar_items=np.array([[1, 2], [0, -1], [0, -1]], dtype=np.int32),
        similar_weights=np.array([[0.5, 0.25], [0.5, 0.0], [0.25, 0.0]], dtype=np.float32),
        ease_items=np.array([[1, -1], [2, -1], [0, -1]], dtype=np.int32),
        ease_weights=np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], dtype=np.float32),
        user_ids=np.array(["u"]),
        history_offsets=np.array([0, 0]),
        history_items=np.zeros(0, dtype=np.int32),
        history_times=np.zeros(0),
        attribute_names=[],
        attribute_values=[],
        user_attributes=np.zeros((1, 0), dtype=np.int32),
    )
    scores = candidate_scores(state, History.of([0, 1], decay=0.8))  # weights 0.8 (a), 1.0 (b)
    assert scores.ease_recent.tolist() == pytest.approx([0.0, 0.8, 2.0])
    assert scores.cosine_long.tolist() == pytest.approx([0.25, 0.25, 0.125])

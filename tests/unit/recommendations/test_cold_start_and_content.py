"""Users with no history (popularity overall and per segment) and items nobody has touched (content
neighbours), on a tiny hand-made shop whose answers can be read off: one code path for the build's choice
and for serving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from commerce_ai.errors import InvalidInput
from commerce_ai.recommendations import engine
from commerce_ai.recommendations.content import (
    content_vectors,
    nearest_to,
    title_vocabulary,
    title_words,
    top_similar,
    vector_for,
)
from commerce_ai.recommendations.features import cold_start_scores, cold_start_segment, segment_scores
from commerce_ai.recommendations.filters import ItemFacts
from commerce_ai.recommendations.model import ServedModel
from commerce_ai.recommendations.session import SessionState
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations import cold_start, protocol
from model_build.recommendations.data import Dataset
from model_build.recommendations.fitting import fit_state

TITLES = {
    "m-1": ("Star Wars (1977)", ["Action", "Sci-Fi"]),
    "m-2": ("Return of the Jedi (1983)", ["Action", "Sci-Fi"]),
    "m-3": ("Star Trek: First Contact (1996)", ["Action", "Sci-Fi"]),
    "m-4": ("Sense and Sensibility (1995)", ["Drama", "Romance"]),
    "m-5": ("Emma (1996)", ["Drama", "Romance"]),
    "m-6": ("Toy Story (1995)", ["Animation", "Children"]),
    "m-7": ("Star Trek: The Wrath of Khan (1982)", ["Action", "Sci-Fi"]),  # nobody has touched it
} | {f"d-{k}": (f"Documentary {k}", ["Documentary"]) for k in range(6)}  # so that a top 10 can miss


def tiny_shop() -> Dataset:
    """Young users watch science fiction, older ones period dramas; m-6 is liked by everyone a little."""
    rows = []
    users = []
    for u in range(24):
        young = u % 2 == 0
        users.append((f"u-{u}", "18-24" if young else "56+", "F" if u % 3 == 0 else "M"))
        liked = ["m-1", "m-2", "m-3"] if young else ["m-4", "m-5"]
        for k, item in enumerate([*liked, "m-6"] if u % 4 == 0 else liked):
            rows.append((f"u-{u}", item, 1_000 + u * 100 + k))
    interactions = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(event_type="rating")
    items = pd.DataFrame(
        [(i, title, genres) for i, (title, genres) in TITLES.items()], columns=["item_id", "title", "categories"]
    )
    users_frame = pd.DataFrame(users, columns=["user_id", "age_band", "gender"])
    return Dataset(interactions, items, users_frame, "tiny shop")


@pytest.fixture(scope="module")
def state() -> RecommenderState:
    return fit_state(tiny_shop(), tiny_shop().interactions)


def no_catalogue(ids: list[str]) -> dict[str, ItemFacts]:
    return {}


def test_cold_start_scores_shrink_a_segment_toward_the_whole_shop() -> None:
    overall = np.array([10.0, 0.0, 30.0])
    segment = np.array([0.0, 4.0, 0.0])
    assert cold_start_scores(overall, [], 50.0) == pytest.approx([0.25, 0.0, 0.75])
    assert cold_start_scores(overall, [segment], 0.0) == pytest.approx([0.0, 1.0, 0.0])
    blended = cold_start_scores(overall, [segment], 4.0)  # half the segment, half the shop
    assert blended == pytest.approx([0.125, 0.5, 0.375])
    assert cold_start_scores(overall, [np.zeros(3)], 0.0) == pytest.approx([0.25, 0.0, 0.75])  # empty segment


def test_each_attribute_value_counts_its_users_interactions(state: RecommenderState) -> None:
    young = state.segment_row("age_band", "18-24")
    assert young is not None and state.segment_popularity is not None
    counts = dict(zip(state.item_ids.tolist(), state.segment_popularity[young].tolist(), strict=True))
    assert counts["m-1"] == 12 and counts["m-4"] == 0 and counts["m-7"] == 0
    assert state.segment_row("age_band", "unheard-of") is None and state.segment_row("shoe_size", "9") is None


def test_a_cold_user_gets_the_popular_items_of_their_segment(state: RecommenderState) -> None:
    state.cold_start_attributes, state.cold_start_shrinkage = ["age_band"], 0.0
    model = ServedModel("v1", None, state)
    older = engine.recommend(
        model, "visitor", SessionState(), 0.0, 2, no_catalogue, exploration_share=0.0, segment={"age_band": "56+"}
    )
    assert older.cold_start and older.segment == {"age_band": "56+"}
    assert {i.item_id for i in older.items} == {"m-4", "m-5"}
    assert all(i.reason == "popular with age_band 56+" for i in older.items)
    # a known user without history is served by what the model knows of them; an unseen value falls back
    assert cold_start_segment(state, state.user_index("u-1"), {}) == {"age_band": "56+"}
    overall = engine.recommend(
        model, "visitor", SessionState(), 0.0, 2, no_catalogue, exploration_share=0.0, segment={"age_band": "12"}
    )
    assert overall.segment == {} and overall.items[0].reason.startswith("popular in")
    assert segment_scores(state, {}) == pytest.approx(state.item_popularity / state.item_popularity.sum())


def test_a_segment_naming_an_attribute_the_model_lacks_is_a_400(state: RecommenderState) -> None:
    assert engine.parse_segment("age_band:18-24,gender:F", state) == {"age_band": "18-24", "gender": "F"}
    with pytest.raises(InvalidInput, match="unknown attribute 'shoe_size'"):
        engine.parse_segment("shoe_size:9", state)
    with pytest.raises(InvalidInput, match="not attribute:value"):
        engine.parse_segment("age_band", state)


def test_the_build_chooses_a_segment_only_when_it_beats_overall_popularity() -> None:
    stage = protocol.stages(tiny_shop(), ("validation",))["validation"]
    choice = cold_start.choose(stage)
    # every user's validation item is one of their group's: the age band puts it first, overall does not
    assert "age_band" in choice.attributes
    assert choice.segment.ndcg > choice.overall.ndcg


def test_title_words_drop_articles_and_punctuation() -> None:
    assert title_words("Star Trek: The Wrath of Khan (1982)") == ["star", "trek", "wrath", "khan", "1982"]
    words, idf = title_vocabulary(["Star Wars", "Star Trek", "Emma"])
    assert words == ["star"] and len(idf) == 1  # a word in one title only can match nothing


def test_content_neighbours_follow_categories_and_title_words() -> None:
    categories = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    titles = ["Star Trek", "Star Trek II", "Emma"]
    words, idf = title_vocabulary(titles)
    items, weights = top_similar(content_vectors(categories, titles, words, idf), k=2)
    assert items[0].tolist() == [1, -1] and weights[0, 0] == pytest.approx(1.0)
    assert items[2].tolist() == [-1, -1]  # nothing in common with anything
    with_images = content_vectors(categories, titles, words, idf, image_embeddings=np.eye(3, dtype=np.float32))
    assert with_images.shape == (3, 2 + len(words) + 3)  # the documented hook for visual embeddings


def a_catalogue(n: int = 300) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Categories and colours many items share (multiplied densely), title words a few share (scattered from
    their posting lists), and image vectors for two items in three."""
    rng = np.random.default_rng(7)
    categories = (rng.random((n, 6)) < 0.25).astype(np.float32)
    colours = ["red", "blue", "green"]
    titles = [
        f"{colours[i % 3]} word{rng.integers(40)} name{rng.integers(400)} word{rng.integers(40)}" for i in range(n)
    ]
    images = rng.normal(size=(n, 8)).astype(np.float32)
    images[::3] = 0.0
    return categories, titles, images


def test_top_similar_finds_the_exact_dense_neighbours_without_the_dense_matrix() -> None:
    categories, titles, images = a_catalogue()
    words, idf = title_vocabulary(titles)
    vectors = content_vectors(categories, titles, words, idf, images)
    dense = vectors.dense()
    norms = np.linalg.norm(dense, axis=1)
    assert norms[norms > 0] == pytest.approx(1.0, abs=1e-5)
    exact = dense @ dense.T
    np.fill_diagonal(exact, -np.inf)
    k = 10
    items, weights = top_similar(vectors, k, block_entries=37 * len(titles))  # several blocks of rows
    best = -np.sort(-exact, axis=1)[:, :k]
    assert weights == pytest.approx(np.where(best > 0, best, 0.0), abs=1e-5)
    for row, (found, found_weights) in enumerate(zip(items, weights, strict=True)):
        listed = found[found >= 0]
        assert exact[row, listed] == pytest.approx(found_weights[: len(listed)], abs=1e-5)
        # every item clearly above the k-th similarity is listed (ties at the boundary may go either way)
        assert set(np.flatnonzero(exact[row] > best[row, -1] + 1e-5)) <= set(listed.tolist())


def test_a_new_item_is_ranked_against_the_sparse_vectors_as_the_dense_product_would() -> None:
    categories, titles, _ = a_catalogue()
    words, idf = title_vocabulary(titles)
    vectors = content_vectors(categories, titles, words, idf)
    query = vector_for(["c1", "c3"], "blue word3 word7 unknown", [f"c{j}" for j in range(6)], words, idf)
    found, similarity = nearest_to(query, vectors, 15)
    exact = vectors.dense() @ query
    assert similarity == pytest.approx(-np.sort(-exact)[:15], abs=1e-5)
    assert exact[found] == pytest.approx(similarity, abs=1e-5)


def test_a_new_item_nobody_has_touched_gets_content_neighbours(state: RecommenderState) -> None:
    model = ServedModel("v1", None, state)
    similar = engine.similar(model, "m-7", 3, no_catalogue)
    assert similar is not None
    assert [s.item_id for s in similar][:1] == ["m-3"]  # Star Trek, Action|Sci-Fi
    assert all(s.reason == "similar to Star Trek: The Wrath of Khan (1982)" for s in similar)
    # and it is listed among the content neighbours of a touched item, after its collaborative ones
    touched = engine.similar(model, "m-3", 6, no_catalogue)
    assert touched is not None and "m-7" in [s.item_id for s in touched]


def test_a_catalogue_item_added_after_the_build_is_described_from_the_catalogue(state: RecommenderState) -> None:
    model = ServedModel("v1", None, state)

    def catalogue(ids: list[str]) -> dict[str, ItemFacts]:
        return {i: ItemFacts(i, "Emma and Sensibility", ("Drama",)) for i in ids if i == "m-new"}

    similar = engine.similar(model, "m-new", 2, catalogue)
    assert similar is not None and {s.item_id for s in similar} == {"m-4", "m-5"}
    assert engine.similar(model, "nowhere", 2, catalogue) is None

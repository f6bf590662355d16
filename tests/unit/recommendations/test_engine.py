"""The serving pipeline over a real `recommendations-ranker` built from the small synthetic shop: long-term
plus session blending, cold start, filters, stock, feedback, exploration, similar items and ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from commerce_ai.recommendations import engine
from commerce_ai.recommendations.filters import ItemFacts, parse_filter
from commerce_ai.recommendations.model import ServedModel, open_recommender
from commerce_ai.recommendations.session import SessionState, apply_event
from commerce_ai.stream.schema import BehaviourEvent
from model_build import manifest_for
from tests.support.recommendations import built_recommendations

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> ServedModel:
    built = built_recommendations(tmp_path_factory.mktemp("recommendations"))[0]
    return open_recommender(manifest_for(built, "v1"), built.directory)


def no_catalogue(ids: list[str]) -> dict[str, ItemFacts]:
    return {}


def seen(kind: str, item: str, at: datetime = NOW, **fields: object) -> BehaviourEvent:
    return BehaviourEvent.model_validate(
        {
            "event_id": f"{kind}-{item}-{at.timestamp()}",
            "user_id": "u-1",
            "session_id": "s",
            "event_type": kind,
            "timestamp": at,
            "item_id": item,
            **fields,
        }
    )


def category(model: ServedModel, item_id: str) -> str:
    index = model.state.item_index(item_id)
    assert index is not None
    return engine.model_facts(model.state, index).categories[0]


def test_a_known_user_gets_unseen_items_of_their_taste_with_reasons(model: ServedModel) -> None:
    outcome = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 10, no_catalogue)
    assert not outcome.cold_start and len(outcome.items) == 10
    user = model.state.user_index("u-1")
    assert user is not None
    history = {str(model.state.item_ids[i]) for i in model.state.history(user)[0]}
    assert not history & {item.item_id for item in outcome.items}
    personal = outcome.items[:-1]  # the last slot of ten explores
    assert all(item.reason.startswith("because you viewed") for item in personal)
    # recency weighting: the best item is of a category among the user's last few items
    recent = {engine.model_facts(model.state, int(i)).categories[0] for i in model.state.history(user)[0][-3:]}
    assert personal[0].category in recent
    assert outcome.items[-1].score == 0.0 and (
        "new" in outcome.items[-1].reason or "rarely" in outcome.items[-1].reason
    )


def test_an_unknown_user_gets_popular_items_and_is_told_so(model: ServedModel) -> None:
    outcome = engine.recommend(model, "stranger", SessionState(), NOW.timestamp(), 5, no_catalogue)
    assert outcome.cold_start and len(outcome.items) == 5
    assert all(item.reason.startswith("popular") for item in outcome.items)


def test_a_session_moves_a_new_user_toward_what_they_just_viewed(model: ServedModel) -> None:
    session = SessionState()
    for n, item in enumerate(["i-2", "i-7", "i-12"]):  # all "music"
        session = apply_event(session, seen("view", item, NOW + timedelta(seconds=n)))
    outcome = engine.recommend(model, "stranger", session, NOW.timestamp() + 5, 9, no_catalogue)
    assert not outcome.cold_start and outcome.session_items == 3
    assert sum(item.category == "music" for item in outcome.items) >= 6


def test_the_context_item_counts_as_just_viewed(model: ServedModel) -> None:
    outcome = engine.recommend(model, "stranger", SessionState(), NOW.timestamp(), 5, no_catalogue, context_item="i-4")
    assert outcome.session_items == 1 and outcome.items[0].category == "kitchen"  # i-4 is kitchen


def test_not_interested_removes_the_item_and_pushes_its_neighbours_down(model: ServedModel) -> None:
    before = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 9, no_catalogue)
    dismissed = before.items[0].item_id
    session = apply_event(SessionState(), seen("not_interested", dismissed))
    after = engine.recommend(model, "u-1", session, NOW.timestamp(), 9, no_catalogue)
    assert dismissed not in {item.item_id for item in after.items}
    index = model.state.item_index(dismissed)
    assert index is not None
    closest = str(model.state.item_ids[model.state.similar_items[index][0]])
    scores_before = {i.item_id: i.score for i in before.items}
    scores_after = {i.item_id: i.score for i in after.items}
    if closest in scores_before and closest in scores_after:
        assert scores_after[closest] < scores_before[closest]


def test_purchases_the_cart_and_out_of_stock_items_are_never_recommended(model: ServedModel) -> None:
    first = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 9, no_catalogue).items
    session = apply_event(SessionState(), seen("purchase", first[0].item_id))
    session = apply_event(session, seen("add_to_cart", first[1].item_id))
    out_of_stock = first[2].item_id

    def catalogue(ids: list[str]) -> dict[str, ItemFacts]:
        return (
            {out_of_stock: ItemFacts(out_of_stock, "gone", ("games",), in_stock=False)} if out_of_stock in ids else {}
        )

    later = engine.recommend(model, "u-1", session, NOW.timestamp(), 9, catalogue)
    assert {first[0].item_id, first[1].item_id, out_of_stock}.isdisjoint(item.item_id for item in later.items)


def test_a_filter_keeps_only_matching_items(model: ServedModel) -> None:
    predicate = parse_filter("category = books")
    outcome = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 10, no_catalogue, predicate)
    assert outcome.items and all(item.category == "books" for item in outcome.items)


def test_unclicked_impressions_push_an_item_down(model: ServedModel) -> None:
    before = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 9, no_catalogue).items
    top = before[0].item_id
    session = SessionState()
    for n in range(5):
        session = apply_event(session, seen("impression", top, NOW + timedelta(seconds=n), item_ids=[top]))
    after = engine.recommend(model, "u-1", session, NOW.timestamp() + 5, 9, no_catalogue).items
    assert after[0].item_id != top
    shown = [item for item in after if item.item_id == top]
    assert not shown or shown[0].score < before[0].score  # 5 unclicked impressions: 75% off


def test_similar_items_and_an_unknown_item(model: ServedModel) -> None:
    similar = engine.similar(model, "i-3", 5, no_catalogue)
    assert similar is not None and len(similar) == 5
    assert all(item.category == category(model, "i-3") for item in similar[:3])
    assert engine.similar(model, "no-such-item", 5, no_catalogue) is None


def test_ranking_a_callers_list_puts_the_users_taste_first_and_lists_unknown_items(model: ServedModel) -> None:
    ids = ["i-0", "i-5", "i-1", "i-6", "i-2", "unknown"]  # books, books, games, games, music
    ranked, unknown, cold_start = engine.rank_items(model, "u-1", SessionState(), NOW.timestamp(), ids)
    assert unknown == ["unknown"] and not cold_start
    assert {ranked[0].item_id, ranked[1].item_id} == {"i-1", "i-6"}
    assert sorted(item.item_id for item in ranked) == sorted(ids[:-1])


def test_an_unfiltered_request_reads_about_what_it_needs_from_the_catalogue(model: ServedModel) -> None:
    asked: list[int] = []

    def counting(ids: list[str]) -> dict[str, ItemFacts]:
        asked.append(len(ids))
        return {}

    outcome = engine.recommend(model, "u-1", SessionState(), NOW.timestamp(), 10, counting)
    assert len(outcome.items) == 10
    # MMR's 3x of the ranked slots, half again for what fails on the way, plus 2x the exploration slots:
    # not BatchGetItem's whole 100 per walk.
    assert sum(asked) <= 60, asked

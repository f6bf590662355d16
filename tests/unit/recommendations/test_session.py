"""Session state: what each event does, the blend's weighting, fatigue that recovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from commerce_ai.recommendations import session
from commerce_ai.recommendations.session import SessionState, apply_event, fatigue, session_weights
from commerce_ai.stream.schema import BehaviourEvent

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def event(kind: str, item: str = "i-1", at: datetime = T0, **fields: Any) -> BehaviourEvent:
    body: dict[str, Any] = {
        "event_id": f"e-{kind}-{item}-{at.timestamp()}",
        "user_id": "u-1",
        "session_id": "s-1",
        "event_type": kind,
        "timestamp": at,
        "item_id": item,
        **fields,
    }
    return BehaviourEvent.model_validate(body)


def test_interest_events_become_recent_items_newest_last_without_duplicates() -> None:
    state = SessionState()
    for n, item in enumerate(["a", "b", "a", "c"]):
        state = apply_event(state, event("view", item, T0 + timedelta(seconds=n)))
    assert [item for item, _ in state.recent] == ["b", "a", "c"]
    assert state.excluded == {}


def test_purchases_ratings_and_the_cart_are_excluded_until_removed_from_the_cart() -> None:
    state = apply_event(SessionState(), event("purchase", "bought"))
    state = apply_event(state, event("rating", "rated", value=4.0))
    state = apply_event(state, event("add_to_cart", "carted"))
    assert state.excluded == {"bought": "purchase", "rated": "rating", "carted": "cart"}
    state = apply_event(state, event("remove_from_cart", "carted"))
    state = apply_event(state, event("remove_from_cart", "bought"))  # a purchase stays excluded
    assert state.excluded == {"bought": "purchase", "rated": "rating"}


def test_not_interested_dismisses_the_item_and_drops_it_from_the_session() -> None:
    state = apply_event(SessionState(), event("view", "x"))
    state = apply_event(state, event("not_interested", "x", T0 + timedelta(seconds=1)))
    assert "x" in state.not_interested and state.recent == []


def test_unclicked_impressions_fatigue_an_item_which_recovers_over_time_and_a_click_clears() -> None:
    state = SessionState()
    for n in range(3):
        state = apply_event(state, event("impression", "x", T0 + timedelta(minutes=n), item_ids=["x", "y"]))
    now = (T0 + timedelta(minutes=2)).timestamp()
    assert fatigue(state, "x", now) == 1 - 3 * session.FATIGUE_PER_IMPRESSION
    later = now + session.FATIGUE_HALF_LIFE
    assert fatigue(state, "x", later) == 1 - 3 * session.FATIGUE_PER_IMPRESSION / 2  # half the penalty
    assert fatigue(state, "never-shown", now) == 1.0
    state = apply_event(state, event("click", "x", T0 + timedelta(minutes=3)))
    assert fatigue(state, "x", now) == 1.0 and fatigue(state, "y", now) < 1.0


def test_fatigue_is_capped() -> None:
    state = SessionState()
    for n in range(20):
        state = apply_event(state, event("impression", "x", T0, item_ids=["x"], event_id=f"e-{n}"))
    assert fatigue(state, "x", T0.timestamp()) == 1 - session.FATIGUE_MAX


def test_session_items_fade_with_their_age() -> None:
    state = apply_event(SessionState(), event("view", "old", T0))
    state = apply_event(state, event("view", "new", T0 + timedelta(seconds=session.SESSION_HALF_LIFE)))
    weights = dict(session_weights(state, (T0 + timedelta(seconds=session.SESSION_HALF_LIFE)).timestamp()))
    assert weights == {"old": 0.5, "new": 1.0}


def test_the_state_round_trips_through_json_and_the_ttl_follows_the_last_event() -> None:
    state = apply_event(SessionState(), event("impression", "x", item_ids=["x"]))
    state = apply_event(state, event("purchase", "y"))
    assert SessionState.from_json(state.as_json()) == state
    assert session.ttl(state) == int(T0.timestamp()) + session.SESSION_TTL_DAYS * 86_400


def test_an_event_applied_again_changes_nothing() -> None:
    """A write that landed while its answer was lost is retried by the store with the event again."""
    shown = event("impression", "x", item_ids=["x"])
    once = apply_event(SessionState(), shown)
    assert apply_event(once, shown) == once and once.impressions["x"][0] == 1


def test_maps_are_bounded() -> None:
    state = SessionState()
    for n in range(session.MAX_TRACKED + 5):
        state = apply_event(state, event("purchase", f"i-{n}"))
    assert len(state.excluded) == session.MAX_TRACKED and "i-0" not in state.excluded
    assert len(state.recent) == session.MAX_RECENT

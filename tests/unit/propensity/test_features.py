"""The one feature definition: windows, late and duplicate events, order, storage round trips."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai.propensity.features import FEATURE_NAMES, NEVER, feature_vector, profile_from_events
from commerce_ai.propensity.profile import DAY_BUCKETS, ItemFacts, Profile
from commerce_ai.stream.schema import EVENT_TYPES
from tests.support.propensity import event

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def named(vector: list[float]) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, vector, strict=True))


def rich_history(seed: int = 1, n: int = 300) -> list:
    rng = random.Random(seed)
    events = []
    for i in range(n):
        kind = rng.choice(EVENT_TYPES)
        at = NOW - timedelta(minutes=rng.uniform(1, 100 * 24 * 60))
        extra: dict[str, Any] = {
            "properties": {"category": rng.choice("abc"), "brand": rng.choice("xyz"), "list_price": 10.0}
        }
        if kind in {"purchase", "add_to_cart", "view"}:
            extra |= {"price": round(rng.uniform(5, 15), 2), "quantity": rng.randint(1, 3)}
        events.append(event(f"e{i}", kind, at, session=f"s{rng.randrange(30)}", **extra))
    return sorted(events, key=lambda e: e.timestamp)


def test_over_two_hundred_features_each_named_once() -> None:
    assert len(FEATURE_NAMES) >= 200
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert len(feature_vector(Profile("u"), NOW)) == len(FEATURE_NAMES)


def test_windows_count_what_happened_within_them() -> None:
    events = [
        event("p1", "purchase", NOW - timedelta(days=2), price=10.0, quantity=2),
        event("v1", "view", NOW - timedelta(minutes=30)),
        event("v2", "view", NOW - timedelta(days=40)),
    ]
    f = named(feature_vector(profile_from_events("u-1", events), NOW))
    assert (f["purchase_count_1d"], f["purchase_count_7d"], f["purchase_count_lifetime"]) == (0, 1, 1)
    assert f["revenue_7d"] == 20.0 and f["units_7d"] == 2
    assert (f["view_count_1h"], f["view_count_1d"], f["view_count_30d"], f["view_count_90d"]) == (1, 1, 1, 2)
    assert math.isclose(f["days_since_last_purchase"], 2.0)
    assert f["days_since_last_cart"] == NEVER


def test_a_purchases_only_history_is_enough() -> None:
    events = [event(f"p{i}", "purchase", NOW - timedelta(days=10 * i), price=5.0) for i in range(1, 4)]
    f = named(feature_vector(profile_from_events("u-1", events), NOW))
    assert f["repeat_purchase_days"] == 2 and f["gap_mean_days"] == 10.0 and f["orders"] == 3
    assert all(math.isfinite(v) for v in f.values())


def test_an_event_applied_twice_counts_once() -> None:
    history = rich_history()
    once = profile_from_events("u-1", history)
    twice = profile_from_events("u-1", history + history[-20:])
    assert feature_vector(once, NOW) == feature_vector(twice, NOW)


def test_arrival_order_does_not_change_the_features() -> None:
    history = rich_history(n=120)
    shuffled = history[:]
    random.Random(9).shuffle(shuffled)
    # equal up to the order of floating-point sums
    assert feature_vector(profile_from_events("u-1", history), NOW) == pytest.approx(
        feature_vector(profile_from_events("u-1", shuffled), NOW), rel=1e-12
    )


def test_a_late_event_beyond_the_buckets_counts_in_the_lifetime_aggregates_only() -> None:
    recent = event("p1", "purchase", NOW - timedelta(days=1), price=5.0)
    late = event("p0", "purchase", NOW - timedelta(days=DAY_BUCKETS + 5), price=7.0)
    f = named(feature_vector(profile_from_events("u-1", [recent, late]), NOW))
    assert f["purchase_count_90d"] == 1 and f["purchase_count_lifetime"] == 2
    assert f["days_since_first_purchase"] > DAY_BUCKETS


def test_the_stored_form_round_trips_through_json() -> None:
    profile = profile_from_events("u-1", rich_history())
    restored = Profile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert feature_vector(restored, NOW) == feature_vector(profile, NOW)
    assert named(feature_vector(restored, NOW))["categories"] == 3


def test_catalogue_facts_win_over_event_properties() -> None:
    profile = Profile("u-1")
    profile.apply(event("v1", "view", NOW, properties={"category": "shoes"}), ItemFacts(category="boots"))
    assert set(profile.categories) == {"boots"}


def test_every_feature_is_finite_for_a_rich_history() -> None:
    vector = feature_vector(profile_from_events("u-1", rich_history(seed=4)), NOW)
    assert all(math.isfinite(v) for v in vector)

"""Lifecycle targets (new, clearance) and the competitor price index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.pricing.competitors import (
    MAX_COMPETITORS,
    Observation,
    competitor_index,
    latest_per_competitor,
    tracked,
)
from commerce_ai.pricing.lifecycle import Clearance, clearance_target, new_product_target

NOW = datetime(2026, 11, 28, tzinfo=UTC)


@given(
    proposed=st.floats(min_value=0.01, max_value=1000),
    launch=st.floats(min_value=0.5, max_value=100),
    tick=st.integers(min_value=0, max_value=10_000),
)
def test_a_new_product_stays_near_its_launch_price(proposed: float, launch: float, tick: int) -> None:
    target = new_product_target(proposed, launch, tick)
    assert launch * 0.95 - 1e-9 <= target <= launch * 1.05 + 1e-9


def test_a_new_product_explores_on_alternate_ticks() -> None:
    assert new_product_target(2.0, 2.0, 0) > 2.0 > new_product_target(2.0, 2.0, 1)


def constant_elasticity(base_price: float, base_units: float, elasticity: float):  # type: ignore[no-untyped-def]
    return lambda price: base_units * (price / base_price) ** elasticity


def test_clearance_cuts_the_price_just_enough_to_sell_through() -> None:
    demand = constant_elasticity(4.0, 10.0, -2.0)
    plan = Clearance(end=NOW + timedelta(days=10), inventory=400, salvage_price=1.0)
    price = clearance_target(4.0, plan, NOW, demand, -2.0)
    assert demand(price) * 10 == pytest.approx(400)  # 40/day needed: price = 4 * 4 ** (-1/2) = 2.0
    assert price == pytest.approx(2.0)


def test_clearance_never_goes_below_salvage() -> None:
    demand = constant_elasticity(4.0, 1.0, -1.5)
    plan = Clearance(end=NOW + timedelta(days=2), inventory=10_000, salvage_price=2.5)
    assert clearance_target(4.0, plan, NOW, demand, -1.5) == 2.5


def test_clearance_on_track_keeps_the_price() -> None:
    demand = constant_elasticity(4.0, 100.0, -2.0)
    plan = Clearance(end=NOW + timedelta(days=10), inventory=50, salvage_price=1.0)
    assert clearance_target(4.0, plan, NOW, demand, -2.0) == 4.0


def obs(competitor: str, price: float, days_ago: float) -> Observation:
    return Observation(competitor, price, NOW - timedelta(days=days_ago))


def test_the_latest_observation_per_competitor_wins() -> None:
    latest = latest_per_competitor([obs("a", 2.0, 3), obs("a", 2.2, 1), obs("b", 1.8, 2)])
    assert {k: v.price for k, v in latest.items()} == {"a": 2.2, "b": 1.8}


def test_the_index_is_the_median_of_fresh_competitors_only() -> None:
    latest = latest_per_competitor([obs("a", 2.0, 1), obs("b", 2.4, 1), obs("c", 9.9, 1), obs("old", 0.1, 30)])
    assert competitor_index(latest, NOW) == 2.4
    assert competitor_index({}, NOW) is None


def test_at_most_ten_competitors_are_tracked_most_recent_first() -> None:
    latest = latest_per_competitor([obs(f"c{i}", 2.0 + i, i / 10) for i in range(15)])
    kept = tracked(latest, NOW)
    assert len(kept) == MAX_COMPETITORS
    assert [o.competitor for o in kept] == [f"c{i}" for i in range(10)]

"""A repricing tick: the shipped policy's proposals, lifecycle shaping, guard rails, per-SKU failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai.pricing.guardrails import GuardRailConfig, margin_floor
from commerce_ai.pricing.lifecycle import Clearance, Stage
from commerce_ai.pricing.repricing import CatalogEntry, myopic_price, reprice

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def entry(**overrides: object) -> CatalogEntry:
    base: dict[str, object] = {
        "sku": "oj-2-1",
        "current_price": 2.20,
        "cost": 1.90,
        "elasticity": -3.0,
        "weekly_units": 70.0,
    }
    base.update(overrides)
    return CatalogEntry(**base)  # type: ignore[arg-type]


def test_the_myopic_price_is_the_lerner_optimum() -> None:
    assert myopic_price(2.0, -3.0, 9.9) == pytest.approx(3.0)
    assert myopic_price(2.0, -0.5, 2.5) == pytest.approx(2.625)  # inelastic: a gentle step up


def test_a_mature_sku_moves_toward_the_optimum_within_the_step_limit() -> None:
    result = reprice([entry()], NOW, tick=1, model_version="demand/v1", policy_version="myopic/v1")
    (decision,) = result.decisions
    assert decision.applied == 2.42 and decision.rules == ["max_step"]
    assert (decision.model_version, decision.policy_version) == ("demand/v1", "myopic/v1")


def test_a_new_sku_stays_near_its_launch_price() -> None:
    (decision,) = reprice([entry(stage=Stage.NEW, launch_price=2.20)], NOW, tick=0).decisions
    assert decision.new_price <= 2.20 * 1.05 + 0.005


def test_clearance_cuts_to_sell_through_but_not_below_salvage() -> None:
    plan = Clearance(end=NOW + timedelta(days=14), inventory=10_000, salvage_price=1.50)
    (decision,) = reprice(
        [entry(stage=Stage.CLEARANCE, clearance=plan)], NOW, tick=1, config=GuardRailConfig(max_step=0.5)
    ).decisions
    assert decision.proposed == 1.50 and decision.applied == 1.50  # below cost is allowed in clearance


def test_a_broken_sku_fails_alone_and_the_tick_goes_on() -> None:
    result = reprice([entry(sku="bad", cost=float("nan")), entry(sku="good")], NOW, tick=1)
    assert [d.sku for d in result.decisions] == ["good"]
    assert "cost" in result.failures["bad"]


@settings(max_examples=300, deadline=None)
@given(
    price=st.floats(min_value=0.5, max_value=50),
    cost_share=st.floats(min_value=0.2, max_value=1.2),
    elasticity=st.floats(min_value=-6, max_value=0),
    stage=st.sampled_from([Stage.MATURE, Stage.NEW]),
)
def test_no_tick_applies_a_price_under_the_margin_floor(
    price: float, cost_share: float, elasticity: float, stage: Stage
) -> None:
    item = entry(current_price=price, cost=price * cost_share, elasticity=elasticity, stage=stage, launch_price=price)
    result = reprice([item], NOW, tick=3)
    for decision in result.decisions:
        if decision.applied is not None:
            from commerce_ai.pricing.guardrails import SkuPricing

            assert decision.applied >= margin_floor(SkuPricing(item.sku, price, item.cost, stage), GuardRailConfig())

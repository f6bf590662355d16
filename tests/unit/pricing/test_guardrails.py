"""Guard rails: whatever a model proposes, an applied price respects the margin floor, the bounds, the
dead band, the step limit and the frequency limit; anomalies are blocked."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commerce_ai.pricing.guardrails import (
    Decision,
    GuardRailConfig,
    SkuPricing,
    decide,
    margin_floor,
)
from commerce_ai.pricing.lifecycle import Stage

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

prices = st.floats(min_value=0.05, max_value=500, allow_nan=False, allow_infinity=False)
proposals = st.one_of(
    st.floats(),
    prices,
)
configs = st.builds(
    GuardRailConfig,
    min_margin=st.floats(min_value=0.0, max_value=0.5),
    dead_band=st.floats(min_value=0.0, max_value=0.05),
    max_step=st.floats(min_value=0.06, max_value=0.3),
    max_changes_per_day=st.integers(min_value=1, max_value=6),
)


@st.composite
def skus(draw: st.DrawFn) -> SkuPricing:
    current = draw(prices)
    cost = draw(st.floats(min_value=0.01, max_value=current * 1.5))
    stage = draw(st.sampled_from(list(Stage)))
    floor = draw(st.one_of(st.none(), st.floats(min_value=0.01, max_value=current * 1.3)))
    ceiling = draw(st.one_of(st.none(), st.floats(min_value=current * 0.7, max_value=current * 3)))
    changes = draw(st.lists(st.floats(min_value=0, max_value=48), max_size=8))
    history = draw(st.lists(st.floats(min_value=current * 0.5, max_value=current * 1.5), max_size=30))
    return SkuPricing(
        sku="s-1",
        current_price=current,
        cost=cost,
        stage=stage,
        floor=floor,
        ceiling=ceiling,
        salvage_price=draw(st.one_of(st.none(), st.floats(min_value=0.01, max_value=current))),
        price_history=history,
        recent_changes=[NOW - timedelta(hours=h) for h in changes],
        competitor_index=draw(st.one_of(st.none(), st.floats(min_value=current * 0.5, max_value=current * 2))),
    )


def within_bounds(sku: SkuPricing) -> bool:
    """The current price needs no correction, so a blocked proposal leaves it exactly as it is."""
    return margin_floor(sku, GuardRailConfig()) <= sku.current_price <= cent_ceiling(sku)


def cent_ceiling(sku: SkuPricing) -> float:
    return math.floor(sku.ceiling * 100 + 1e-9) / 100 if sku.ceiling is not None else math.inf


@settings(max_examples=3000, deadline=None)
@given(sku=skus(), proposed=proposals, config=configs)
def test_no_applied_price_breaks_a_guard_rail(sku: SkuPricing, proposed: float, config: GuardRailConfig) -> None:
    decision = decide(sku, proposed, NOW, config)
    assert decision.reason, "every decision explains itself"
    if decision.applied is None:
        assert decision.rules, "a kept price names the rule that kept it"
        return
    applied, current = decision.applied, sku.current_price
    lowest = margin_floor(sku, config)
    assert not decision.blocked or applied in (lowest, cent_ceiling(sku)), "a blocked proposal only allows a correction"
    assert applied >= lowest, "margin floor"
    if sku.ceiling is not None:
        assert applied <= sku.ceiling + 1e-9, "ceiling"
    correcting = current < lowest or current > cent_ceiling(sku)
    if not correcting:
        assert sum(1 for t in sku.recent_changes if t > NOW - timedelta(days=1)) < config.max_changes_per_day
        assert abs(applied / current - 1) >= config.dead_band, "dead band"
        assert abs(applied / current - 1) <= config.max_step + 1e-9, "max step, rounding included"
    elif current < lowest:  # a correction moves up to the floor, or within the step limit beyond it
        assert math.isclose(applied, lowest) or applied <= current * (1 + config.max_step) + 1e-9
    else:  # down to the ceiling, or within the step limit below it
        assert math.isclose(applied, cent_ceiling(sku)) or applied >= current * (1 - config.max_step) - 1e-9
    assert applied == round(applied, 2), "prices are whole cents"


@given(sku=skus(), proposed=st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -1.0]))
def test_invalid_proposals_are_blocked(sku: SkuPricing, proposed: float) -> None:
    assume(within_bounds(sku))
    decision = decide(sku, proposed, NOW)
    assert (decision.blocked, decision.applied, decision.rules) == (True, None, ["invalid_proposal"])


@given(sku=skus(), fraction=st.floats(min_value=0.01, max_value=0.99))
def test_below_cost_is_blocked_outside_clearance(sku: SkuPricing, fraction: float) -> None:
    assume(sku.stage is not Stage.CLEARANCE and within_bounds(sku))
    decision = decide(sku, sku.cost * fraction, NOW)
    assert decision.blocked and decision.applied is None
    assert decision.rules == ["below_cost"]


def sku(**overrides: object) -> SkuPricing:
    base: dict[str, object] = {"sku": "oj-2-1", "current_price": 2.50, "cost": 1.50}
    base.update(overrides)
    return SkuPricing(**base)  # type: ignore[arg-type]


def test_a_change_inside_the_dead_band_is_not_applied() -> None:
    decision = decide(sku(), 2.55, NOW)
    assert decision.applied is None and decision.rules == ["dead_band"]
    assert "dead band" in decision.reason


def test_a_large_move_is_limited_to_the_max_step() -> None:
    decision = decide(sku(), 4.00, NOW, GuardRailConfig(max_step=0.10))
    assert decision.applied == 2.75
    assert decision.rules == ["max_step"]


@pytest.mark.parametrize(
    ("current", "proposed", "applied"), [(2.97, 2.20, 2.68), (2.99, 2.00, 2.70), (1.75, 9.0, 1.92)]
)
def test_a_step_limited_price_is_rounded_towards_the_current_one(
    current: float, proposed: float, applied: float
) -> None:
    """2.97 x 0.9 = 2.673: rounding to 2.67 would be a 10.1% step."""
    decision = decide(sku(current_price=current, cost=0.5), proposed, NOW, GuardRailConfig(max_step=0.10))
    assert decision.applied == applied and "max_step" in decision.rules
    assert abs(applied / current - 1) <= 0.10


def test_the_margin_floor_raises_a_low_proposal() -> None:
    decision = decide(sku(cost=2.0), 2.30, NOW, GuardRailConfig(min_margin=0.2))
    assert decision.applied is None or decision.applied >= 2.5
    # the floor (2.50) equals the current price, so nothing changes
    assert decision.rules[-1] in {"no_change", "dead_band"}


def test_a_cost_increase_is_corrected_in_one_step_even_past_the_step_limit() -> None:
    decision = decide(sku(cost=2.60), 3.40, NOW, GuardRailConfig(min_margin=0.2, max_step=0.1))
    assert decision.applied == 3.25  # 2.60 / 0.8
    assert "margin_correction" in decision.rules


def test_a_blocked_proposal_still_lets_a_cost_increase_be_corrected() -> None:
    decision = decide(sku(cost=2.60), 2.50, NOW, GuardRailConfig(min_margin=0.2))
    assert (decision.applied, decision.blocked) == (3.25, True)
    assert decision.rules[0] == "below_cost" and "margin_correction" in decision.rules


def test_the_frequency_limit_holds_the_price() -> None:
    recent = [NOW - timedelta(hours=h) for h in (1, 2, 3, 30)]
    decision = decide(sku(recent_changes=recent), 2.30, NOW, GuardRailConfig(max_changes_per_day=3))
    assert decision.applied is None and decision.rules == ["frequency_limit"]


def test_a_price_below_its_floor_is_corrected_even_past_the_frequency_limit() -> None:
    recent = [NOW - timedelta(hours=h) for h in (1, 2, 3)]
    config = GuardRailConfig(min_margin=0.2, max_changes_per_day=3)
    decision = decide(sku(cost=2.60, recent_changes=recent), 2.50, NOW, config)
    assert decision.applied == 3.25 and "margin_correction" in decision.rules, "selling below cost cannot wait a day"


def test_a_proposal_far_from_the_skus_history_is_blocked() -> None:
    history = [2.49, 2.50, 2.45, 2.55, 2.50, 2.39, 2.50, 2.59, 2.50, 2.49]
    decision = decide(sku(price_history=history), 1.70, NOW)
    assert decision.blocked and decision.rules == ["history_outlier"]


def test_a_proposal_wildly_off_the_competitor_index_is_blocked() -> None:
    decision = decide(sku(competitor_index=1.20), 2.30, NOW)
    assert decision.blocked and decision.rules == ["competitor_outlier"]


def test_clearance_may_go_below_cost_but_not_below_salvage() -> None:
    clearance = sku(stage=Stage.CLEARANCE, salvage_price=1.20)
    assert decide(clearance, 1.30, NOW, GuardRailConfig(max_step=0.5)).applied == 1.30
    low = decide(clearance, 1.00, NOW, GuardRailConfig(max_step=0.9))
    assert low.applied == 1.20 and "margin_floor" in low.rules


def test_floor_above_ceiling_is_refused() -> None:
    decision = decide(sku(floor=3.0, ceiling=2.8), 2.9, NOW)
    assert decision.blocked and decision.rules == ["infeasible_bounds"]


@pytest.mark.parametrize("bad", [{"min_margin": 1.0}, {"dead_band": 0.2, "max_step": 0.1}, {"max_changes_per_day": 0}])
def test_contradictory_configs_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        GuardRailConfig(**bad)  # type: ignore[arg-type]


def test_decision_new_price_is_the_current_one_when_nothing_applies() -> None:
    assert Decision("s", 2.0, 9.0, None).new_price == 2.0


def test_a_decision_carries_everything_the_audit_record_needs() -> None:
    from dataclasses import asdict, replace

    decision = replace(decide(sku(), 2.30, NOW), model_version="pricing-demand/v7", policy_version="myopic/v2")
    record = asdict(decision)
    assert {"old_price", "proposed", "applied", "rules", "reason", "model_version", "policy_version"} <= set(record)
    assert (record["old_price"], record["applied"], record["model_version"]) == (2.50, 2.30, "pricing-demand/v7")

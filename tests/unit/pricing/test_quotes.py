"""Quotes: what-if prices for one SKU with the real served demand model (synthetic market: 100 units a
week at 2.00, elasticity -2.5), the request's validation and the guard rails' verdict on each candidate."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from pydantic import ValidationError

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import SkuState
from commerce_ai.pricing.demand import DemandModel
from commerce_ai.pricing.guardrails import Decision
from commerce_ai.pricing.quotes import MAX_CANDIDATES, QuoteRequest, quote, verdict

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEEP = SkuState(sku="keep", price=2.0, cost=1.2, history=[2.0])
Model = LoadedModel[DemandModel]


# ------------------------------------------------------------------------------------------ request


def test_a_valid_request_is_accepted() -> None:
    request = QuoteRequest.model_validate({"sku": "oj-2-1", "prices": [0.01, 2.5, 1_000_000]})
    assert request.prices == [0.01, 2.5, 1_000_000]
    assert len(QuoteRequest(sku="a", prices=[1.0] * MAX_CANDIDATES).prices) == 50


@pytest.mark.parametrize(
    "body",
    [
        {"sku": "oj-2-1", "prices": []},
        {"sku": "oj-2-1", "prices": [1.0] * (MAX_CANDIDATES + 1)},
        {"sku": "oj-2-1", "prices": [0]},
        {"sku": "oj-2-1", "prices": [2.0, -1.0]},
        {"sku": "oj-2-1", "prices": [math.nan]},
        {"sku": "oj-2-1", "prices": [math.inf]},
        {"sku": "oj-2-1", "prices": [1_000_000.01]},
        {"sku": "oj-2-1", "prices": [1e-135]},  # positive, but no price (below a cent)
        {"sku": "oj-2-1", "prices": [0.009]},
        {"sku": "oj-2-1", "prices": ["cheap"]},
        {"sku": "oj-2-1", "prices": ["2.5"]},  # a price is a JSON number, not a string
        {"sku": "oj-2-1", "prices": [True]},
        {"sku": "a/b", "prices": [2.0]},
        {"sku": "oj-2-1", "prices": 2.0},
        {"sku": "oj-2-1"},
        {"prices": [2.0]},
        {"sku": "bad sku!", "prices": [2.0]},
        {"sku": "oj-2-1", "prices": [2.0], "currency": "USD"},  # extra fields are refused
    ],
)
def test_invalid_requests_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        QuoteRequest.model_validate(body)


def test_non_finite_prices_in_json_are_refused() -> None:
    for literal in ("NaN", "Infinity", "1e400"):
        with pytest.raises(ValidationError):
            QuoteRequest.model_validate_json(f'{{"sku": "a", "prices": [{literal}]}}')


# ------------------------------------------------------------------------------------------ verdict


def decision(applied: float | None, blocked: bool = False, rules: tuple[str, ...] = ()) -> Decision:
    return Decision("s-1", 2.0, 9.9, applied, list(rules), blocked=blocked, reason="why")


@pytest.mark.parametrize(
    ("made", "candidate", "expected"),
    [
        (decision(None, blocked=True, rules=("below_cost",)), 1.0, ("blocked", 2.0)),
        (decision(None, rules=("dead_band",)), 2.03, ("kept", 2.0)),
        (decision(None, rules=("frequency_limit",)), 2.5, ("kept", 2.0)),
        (decision(2.1), 2.1, ("allowed", 2.1)),
        (decision(2.1), 2.104, ("allowed", 2.1)),  # the candidate in whole cents
        (decision(2.2, rules=("max_step",)), 2.5, ("adjusted", 2.2)),
        (decision(1.34, rules=("margin_floor",)), 1.3, ("adjusted", 1.34)),
        # a blocked proposal that still corrects a price below its floor is an adjustment, not a block
        (decision(2.23, blocked=True, rules=("below_cost", "margin_correction")), 0.5, ("adjusted", 2.23)),
    ],
)
def test_verdicts(made: Decision, candidate: float, expected: tuple[str, float]) -> None:
    shown = verdict(made, candidate)
    assert (shown["verdict"], shown["applied"]) == expected
    assert shown["rules"] == made.rules and shown["reason"] == "why"


# -------------------------------------------------------------------------------------------- quote


def test_units_fall_as_the_price_rises_and_follow_the_market(demand_model: Model) -> None:
    prices = [1.0, 1.5, 2.0, 2.5, 3.0, 3.9]
    quotes = quote(KEEP, demand_model.model, prices, NOW)
    units = [q["units"] for q in quotes]
    assert all(a > b for a, b in pairwise(units)), units
    for price, sold in zip(prices, units, strict=True):
        assert sold == pytest.approx(100 * (price / 2.0) ** -2.5, rel=0.25)
    assert [q["price"] for q in quotes] == prices


def test_revenue_and_profit_are_price_and_margin_times_units(demand_model: Model) -> None:
    for q in quote(KEEP, demand_model.model, [1.0, 2.1, 3.333], NOW):
        slack = 0.005 + q["price"] * 0.0005  # units are shown to 3 decimals, money to 2
        assert q["revenue"] == pytest.approx(q["price"] * q["units"], abs=slack)
        assert q["profit"] == pytest.approx((q["price"] - KEEP.cost) * q["units"], abs=slack)
        assert q["revenue"] == round(q["revenue"], 2) and q["profit"] == round(q["profit"], 2)
    (below_cost,) = quote(KEEP, demand_model.model, [1.0], NOW)
    assert below_cost["profit"] < 0


def test_each_candidate_gets_the_guard_rails_verdict(demand_model: Model) -> None:
    quotes = quote(KEEP, demand_model.model, [1.0, 2.03, 2.1, 2.5, 2.0], NOW)
    verdicts = [(q["guard"]["verdict"], q["guard"]["applied"]) for q in quotes]
    assert verdicts == [
        ("blocked", 2.0),  # below cost
        ("kept", 2.0),  # inside the dead band
        ("allowed", 2.1),
        ("adjusted", 2.2),  # +25%: the step limit allows +10%
        ("kept", 2.0),  # the current price
    ]
    assert quotes[0]["guard"]["rules"] == ["below_cost"]


def test_the_guard_sees_the_skus_recent_changes_and_fresh_competitor_index(demand_model: Model) -> None:
    busy = KEEP.model_copy(update={"changes": [NOW - timedelta(hours=h) for h in (1, 2, 3, 4)]})
    ((_, limited),) = [(q["price"], q["guard"]) for q in quote(busy, demand_model.model, [2.1], NOW)]
    assert (limited["verdict"], limited["rules"]) == ("kept", ["frequency_limit"])

    rivals = KEEP.model_copy(update={"competitor_index": 1.2, "competitor_index_at": NOW - timedelta(days=1)})
    (off,) = quote(rivals, demand_model.model, [2.1], NOW)
    assert (off["guard"]["verdict"], off["guard"]["rules"]) == ("blocked", ["competitor_outlier"])  # 1.75x
    stale = rivals.model_copy(update={"competitor_index_at": NOW - timedelta(days=30)})
    (ignored,) = quote(stale, demand_model.model, [2.1], NOW)
    assert ignored["guard"]["verdict"] == "allowed"


def test_a_quote_changes_nothing_on_the_state(demand_model: Model) -> None:
    before = KEEP.model_copy(deep=True)
    quote(KEEP, demand_model.model, [2.5], NOW)
    assert before == KEEP


def test_a_quote_outside_the_skus_training_prices_or_for_an_unknown_sku_is_marked_extrapolated(
    demand_model: Model,
) -> None:
    table = demand_model.model.table
    known = KEEP.model_copy(update={"sku": "oj-known"})
    low, high = table.profile("oj-known").price_range or (math.nan, math.nan)
    assert low < high, "training records each SKU's price range"
    inside, below, above = quote(known, demand_model.model, [(low + high) / 2, low * 0.95, high * 1.1], NOW)
    assert (inside["extrapolated"], below["extrapolated"], above["extrapolated"]) == (False, True, True)
    assert inside["note"] is None and "rough estimate" in above["note"] and above["units"] is not None
    stranger = KEEP.model_copy(update={"sku": "never-trained"})
    assert not table.knows("never-trained")
    assert [q["extrapolated"] for q in quote(stranger, demand_model.model, [(low + high) / 2], NOW)] == [True]


def test_a_quote_far_outside_the_skus_training_prices_gives_no_numbers_and_says_why(demand_model: Model) -> None:
    # Issue 19: 25.00 for a juice that sells around 2.50 must not come back as 99.97 units a week.
    known = KEEP.model_copy(update={"sku": "oj-known"})
    low, high = demand_model.model.table.profile("oj-known").price_range or (math.nan, math.nan)
    far_above, far_below = quote(known, demand_model.model, [high * 10, low * 0.5], NOW)
    for far in (far_above, far_below):
        assert (far["units"], far["revenue"], far["profit"]) == (None, None, None)
        assert far["note"].startswith("no estimate") and f"{high:.2f}" in far["note"]
        assert far["guard"]["verdict"] in ("blocked", "adjusted", "kept", "allowed")  # the guard rails still answer

"""The allocation study's simulator and heuristics on a hand-sized market: every policy ships exactly the
supply, fair share fills shortfalls first, the books balance, and the learned policy starts from
proportional-to-forecast (softmax of log p50)."""

from __future__ import annotations

import numpy as np
import pytest

from commerce_ai.forecasting import allocation as policies
from commerce_ai.forecasting.service import whole_units
from model_build.forecasting.allocation import Market, fair_share, learned, proportional, simulate


def market() -> Market:
    p50 = np.array([[10.0, 30.0], [10.0, 30.0]])
    return Market(
        brand="b",
        demand=np.array([[12.0, 25.0], [8.0, 40.0]]),
        price=np.full((2, 2), 2.0),
        p10=p50 * 0.5,
        p50=p50,
        p90=p50 * 1.5,
    )


@pytest.mark.parametrize("allocate", [proportional, fair_share, learned(np.array([1.0, 0, 0, 0, 0]))])
def test_every_policy_ships_exactly_the_supply(allocate: object) -> None:
    shipped = allocate(market(), 0, np.array([0.0, 20.0]), 36.0)  # type: ignore[operator]
    assert shipped.sum() == pytest.approx(36.0) and (shipped >= 0).all()


def test_fair_share_fills_the_store_that_is_short_first() -> None:
    shipped = fair_share(market(), 0, np.array([0.0, 60.0]), 10.0)
    assert shipped[0] == pytest.approx(10.0) and shipped[1] == pytest.approx(0.0)  # the second is above S


def test_the_learned_policy_starts_as_proportional_to_forecast() -> None:
    start = learned(np.array([1.0, 0, 0, 0, 0]))(market(), 0, np.zeros(2), 36.0)
    assert start == pytest.approx(proportional(market(), 0, np.zeros(2), 36.0), rel=0.05)  # log1p, not log: close


def test_the_books_balance() -> None:
    out = simulate(market(), proportional, (0, 1))
    assert out.demand == 85.0 and out.sold + out.lost / 2.0 == pytest.approx(out.demand)
    assert out.store_weeks == 4 and 0 < out.stockouts <= 4


@pytest.mark.parametrize(
    ("shares", "supply", "units"),
    [
        ([33.4, 33.3, 33.3], 100, [34, 33, 33]),
        ([0.5, 0.5], 1, [1, 0]),
        ([80.8, 20.2], 101, [81, 20]),
        ([0, 0], 0, [0, 0]),
    ],
)
def test_shares_become_whole_units_that_sum_to_the_supply(shares: list[float], supply: int, units: list[int]) -> None:
    assert whole_units(shares, supply) == units


def test_the_served_policy_is_the_learned_one_over_the_same_code_as_the_study() -> None:
    weekly = policies.POLICIES[policies.SERVED_POLICY]()
    m = market()
    args = (m.p10[0], m.p50[0], m.p90[0], np.zeros(2), m.price[0], 36.0)
    assert weekly(*args) == pytest.approx(learned(np.array(policies.SERVED_THETA))(m, 0, np.zeros(2), 36.0))
    assert len(policies.SERVED_THETA) == len(policies.FEATURES)

"""The allocation study's simulator and heuristics on a hand-sized market: every policy ships exactly the
supply, fair share fills shortfalls first, the books balance, and the learned policy starts from
proportional-to-forecast (softmax of log p50). The served policy is the build's artifact: the learned one
only when it beat both heuristics, run by the study's code, and a broken `policy.json` is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from commerce_ai.forecasting import allocation as policies
from commerce_ai.forecasting.service import whole_units
from model_build import manifest_for
from model_build.forecasting.allocation import (
    FAIR_SHARE,
    LEARNED,
    PROPORTIONAL,
    Market,
    fair_share,
    learned,
    proportional,
    served_policy,
    simulate,
    study,
)
from tests.support.forecasting import allocation_policy, built_forecasting_allocation


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


def test_the_served_policy_runs_the_same_code_as_the_study() -> None:
    policy = allocation_policy(theta=[0.5, -0.2, 0.1, 0.8, 0.6])
    m = market()
    args = (m.p10[0], m.p50[0], m.p90[0], np.zeros(2), m.price[0], 36.0)
    assert policy.allocator()(*args) == pytest.approx(learned(np.array(policy.theta))(m, 0, np.zeros(2), 36.0))
    assert policy.allocator("fair-share")(*args) == pytest.approx(fair_share(m, 0, np.zeros(2), 36.0))
    heuristic = allocation_policy(served="proportional")
    assert heuristic.allocator()(*args) == pytest.approx(proportional(m, 0, np.zeros(2), 36.0))


def study_result(learned_cost: float) -> dict[str, object]:
    costs = {LEARNED: learned_cost, FAIR_SHARE: 100.0, PROPORTIONAL: 110.0}
    return {
        "results": {name: {"total_cost": cost} for name, cost in costs.items()},
        "best_heuristic": FAIR_SHARE,
        "theta_values": [1.0, 0.0, 0.0, 0.5, 0.25],
        "iterations": 3,
    }


@pytest.mark.parametrize(("learned_cost", "served"), [(99.0, "learned"), (100.0, "fair-share"), (120.0, "fair-share")])
def test_the_learned_policy_ships_only_if_it_beats_both_heuristics(learned_cost: float, served: str) -> None:
    policy = served_policy(study_result(learned_cost))
    assert policy.served_policy == served and policy.theta == [1.0, 0.0, 0.0, 0.5, 0.25]
    assert policy.judged_cost == {"learned": learned_cost, "fair-share": 100.0, "proportional": 110.0}


def test_the_build_trains_a_policy_in_the_simulator() -> None:
    """A few cross-entropy iterations on a hand-sized market: a valid artifact whatever the verdict."""
    m = market()
    longer = Market(
        brand="b",
        demand=np.tile(m.demand, (12, 1)),
        price=np.tile(m.price, (12, 1)),
        p10=np.tile(m.p10, (12, 1)),
        p50=np.tile(m.p50, (12, 1)),
        p90=np.tile(m.p90, (12, 1)),
    )
    result = study([longer], first_week=137, iterations=2)
    policy = served_policy(result)
    assert result["iterations"] == 2 and len(policy.theta) == len(policies.FEATURES)
    costs = policy.judged_cost
    assert policy.served_policy == "learned" or costs["learned"] >= min(costs["fair-share"], costs["proportional"])


def test_the_policy_artifact_opens_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    built = built_forecasting_allocation(tmp_path)
    manifest = manifest_for(built)
    assert built.name == policies.ALLOCATION_MODEL and manifest.framework == "json"
    assert policies.open_allocation_policy(manifest, built.directory) == allocation_policy()
    path = built.directory / built.entrypoint
    good = json.loads(path.read_text())
    for broken in (
        {**good, "theta": good["theta"][:-1]},  # a weight short of serving's features
        {**good, "features": list(reversed(good["features"]))},
        {**good, "theta": [1e9, 0, 0, 0, 0]},
        {**good, "served_policy": "random"},
        {k: v for k, v in good.items() if k != "theta"},
    ):
        path.write_text(json.dumps(broken))
        with pytest.raises(ValueError):
            policies.open_allocation_policy(manifest, built.directory)

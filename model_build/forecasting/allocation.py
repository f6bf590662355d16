"""Allocating a distribution centre's scarce stock across stores each week: two heuristics against a policy
learned in a simulator driven by the forecasts, on the holdout weeks' real OJ demand (the issue's part 3).

The simulator (one DC per brand, the stores that sell that brand; every SKU with a sale in each of weeks
137-160): at the start of week t the DC receives `SCARCITY` x the sum of its stores' p50 forecasts for t
(made at the end of t - 1 by the served recipe, fitted once at week 136) and ships all of it the same day;
each store sells min(on hand, real demand), the rest is lost; a unit left on hand costs `HOLDING_RATE` of
its price for the week, a lost sale its price (the replay's assumed costs). Demand is the real holdout
demand replayed, not simulated; the forecasts are the model's. The policies (proportional to forecast,
base-stock fair share, and the softmax policy whose weights the cross-entropy method searches: a
derivative-free policy search on the episode's cost, no value function, no neural network) are
`commerce_ai.forecasting.allocation`'s, the code `POST /inventory/allocations` serves. The weights are trained
on weeks 137-148 and judged on weeks 149-160, which they never saw.

The same study, with fewer iterations (`BUILD_ITERATIONS`), is part of the forecasting build: `served_policy`
turns its result into the `forecasting-allocation` artifact the route loads (learned only if it beat both
heuristics on the judged weeks, else the cheaper heuristic). `make eval` runs it with `CEM_ITERATIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from commerce_ai.forecasting import allocation as policies
from commerce_ai.forecasting.allocation import FEATURES, AllocationPolicy, PolicyName

SCARCITY = 0.9
HOLDING_RATE = 0.005
TRAIN_WEEKS = (137, 148)  # inclusive
TEST_WEEKS = (149, 160)
CEM_POPULATION, CEM_ELITE, CEM_ITERATIONS, CEM_SEED = 48, 8, 20, 16
BUILD_ITERATIONS = 8  # the build's search: keeps `up` short; still beats both heuristics (README, Allocation)
LEARNED, FAIR_SHARE = "learned (cross-entropy method)", "base-stock fair share"
PROPORTIONAL = "proportional to forecast"
SERVED_NAMES: dict[str, PolicyName] = {LEARNED: "learned", PROPORTIONAL: "proportional", FAIR_SHARE: "fair-share"}


@dataclass(frozen=True)
class Market:
    """One brand's stores over the holdout weeks: arrays (weeks, stores)."""

    brand: str
    demand: np.ndarray
    price: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray


@dataclass
class Totals:
    demand: float = 0.0
    sold: float = 0.0
    holding: float = 0.0
    lost: float = 0.0
    stockouts: int = 0
    store_weeks: int = 0

    def add(self, other: Totals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def cost(self) -> float:
        return self.holding + self.lost

    def summary(self) -> dict[str, float]:
        return {
            "fill_rate": self.sold / max(self.demand, 1e-9),
            "stockout_rate": self.stockouts / max(self.store_weeks, 1),
            "holding_cost": self.holding,
            "lost_sale_cost": self.lost,
            "total_cost": self.cost,
        }


def _week(market: Market, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return market.p10[t], market.p50[t], market.p90[t]


def proportional(market: Market, t: int, on_hand: np.ndarray, supply: float) -> np.ndarray:
    return policies.proportional(*_week(market, t), on_hand, market.price[t], supply)


def fair_share(market: Market, t: int, on_hand: np.ndarray, supply: float) -> np.ndarray:
    return policies.fair_share(*_week(market, t), on_hand, market.price[t], supply)


def learned(theta: np.ndarray) -> Any:
    allocate_week = policies.learned(theta)

    def allocate(market: Market, t: int, on_hand: np.ndarray, supply: float) -> np.ndarray:
        return allocate_week(*_week(market, t), on_hand, market.price[t], supply)

    return allocate


def simulate(market: Market, allocate: Any, weeks: tuple[int, int]) -> Totals:
    """The episode over `weeks` (indices into the market's arrays), starting with nothing on hand."""
    out = Totals()
    on_hand = np.zeros(market.demand.shape[1])
    for t in range(weeks[0], weeks[1] + 1):
        supply = SCARCITY * float(market.p50[t].sum())
        on_hand = on_hand + allocate(market, t, on_hand, supply)
        demand = market.demand[t]
        sold = np.minimum(on_hand, demand)
        on_hand = on_hand - sold
        price = market.price[t]
        out.demand += float(demand.sum())
        out.sold += float(sold.sum())
        out.lost += float((price * (demand - sold)).sum())
        out.holding += float((HOLDING_RATE * price * on_hand).sum())
        out.stockouts += int((demand - sold > 1e-9).sum())
        out.store_weeks += len(demand)
    return out


def episode_cost(markets: list[Market], allocate: Any, weeks: tuple[int, int]) -> float:
    return sum(simulate(m, allocate, weeks).cost for m in markets)


def train(
    markets: list[Market], weeks: tuple[int, int], iterations: int = CEM_ITERATIONS
) -> tuple[np.ndarray, list[float]]:
    """Cross-entropy method over theta: sample a population, keep the elite, refit the Gaussian."""
    rng = np.random.default_rng(CEM_SEED)
    mean, sd = np.zeros(len(FEATURES)), np.full(len(FEATURES), 1.0)
    mean[0] = 1.0  # start from "proportional to forecast" (softmax of log p50 is p50 shares)
    curve = []
    for _ in range(iterations):
        population = mean + sd * rng.standard_normal((CEM_POPULATION, len(FEATURES)))
        costs = np.array([episode_cost(markets, learned(theta), weeks) for theta in population])
        elite = population[np.argsort(costs)[:CEM_ELITE]]
        mean, sd = elite.mean(axis=0), elite.std(axis=0) + 0.02
        curve.append(float(costs.min()))
    return mean, curve


def markets_from(
    weekly: dict[str, np.ndarray], holdout: dict[str, np.ndarray], prices: dict[str, np.ndarray], brands: dict[str, str]
) -> list[Market]:
    """weekly[sku]: (weeks, 3) one-week-ahead p10/p50/p90 for each holdout week; holdout/prices[sku]: (weeks,)."""
    by_brand: dict[str, list[str]] = {}
    for sku in sorted(weekly):
        by_brand.setdefault(brands[sku], []).append(sku)
    out = []
    for brand, skus in sorted(by_brand.items()):
        if len(skus) < 2:
            continue
        q = np.stack([weekly[s] for s in skus], axis=1)  # (weeks, stores, 3)
        out.append(
            Market(
                brand=brand,
                demand=np.stack([holdout[s] for s in skus], axis=1),
                price=np.stack([prices[s] for s in skus], axis=1),
                p10=q[:, :, 0],
                p50=q[:, :, 1],
                p90=q[:, :, 2],
            )
        )
    return out


def study(markets: list[Market], first_week: int, iterations: int = CEM_ITERATIONS) -> dict[str, Any]:
    """Train on TRAIN_WEEKS, judge every policy on TEST_WEEKS (weeks as indices from `first_week`)."""
    train_weeks = (TRAIN_WEEKS[0] - first_week, TRAIN_WEEKS[1] - first_week)
    test_weeks = (TEST_WEEKS[0] - first_week, TEST_WEEKS[1] - first_week)
    theta, curve = train(markets, train_weeks, iterations)
    policies = {PROPORTIONAL: proportional, FAIR_SHARE: fair_share, LEARNED: learned(theta)}
    results: dict[str, dict[str, float]] = {}
    per_brand: dict[str, list[float]] = {}
    for name, allocate in policies.items():
        totals = Totals()
        per_brand[name] = []
        for m in markets:
            one = simulate(m, allocate, test_weeks)
            per_brand[name].append(one.cost)
            totals.add(one)
        results[name] = totals.summary()
        results[name]["train_cost"] = episode_cost(markets, allocate, train_weeks)
    best_heuristic = min((PROPORTIONAL, FAIR_SHARE), key=lambda k: results[k]["total_cost"])
    wins = sum(a < b for a, b in zip(per_brand[LEARNED], per_brand[best_heuristic], strict=True))
    return {
        "results": results,
        "theta": dict(zip(FEATURES, (round(float(v), 3) for v in theta), strict=True)),
        "theta_values": [float(v) for v in theta],
        "iterations": iterations,
        "curve": curve,
        "best_heuristic": best_heuristic,
        "brand_wins": wins,
        "brands": len(markets),
        "stores": sum(m.demand.shape[1] for m in markets),
    }


def run_study(everything: list[Any], iterations: int = CEM_ITERATIONS) -> dict[str, Any]:
    """Fit the served recipe at week 136, forecast each holdout week one week ahead, run the study."""
    markets = holdout_markets(everything)
    return study(markets, TRAIN_WEEKS[0], iterations)


def holdout_markets(everything: list[Any]) -> list[Market]:
    """The simulator's markets: the served recipe fitted once at week 136 (on the SKUs with a sale in each
    holdout week), each holdout week forecast one week ahead from the weeks before it."""
    from commerce_ai.forecasting.features import season_of
    from model_build.forecasting import protocol
    from model_build.forecasting.data import cut
    from model_build.forecasting.global_model import train_served

    first, last = TRAIN_WEEKS[0], TEST_WEEKS[1]
    origin = first - 1
    full = [s for s in everything if s.first_week <= origin - 20]
    holdout = {s.sku: s.series.units[first - s.first_week : last - s.first_week + 1] for s in full}
    full = [s for s in full if len(holdout[s.sku]) == last - first + 1 and not np.isnan(holdout[s.sku]).any()]
    fitted_on = [c.series for c in (cut(s, origin, protocol.HORIZONS) for s in full) if c is not None]
    model, _, _ = train_served(fitted_on, protocol.HORIZONS, season_of("W"), "W")
    weekly: dict[str, list[np.ndarray]] = {s.sku: [] for s in full}
    for week in range(origin, last):
        seen = [cut(s, week, 1) for s in full]
        for s, q in zip(full, model.forecast([c.series for c in seen if c is not None], 1), strict=True):
            weekly[s.sku].append(q[0])
    prices = {s.sku: s.series.price[first - s.first_week : last - s.first_week + 1] for s in full}
    return markets_from({k: np.stack(v) for k, v in weekly.items()}, holdout, prices, {s.sku: s.brand for s in full})


def served_policy(result: dict[str, Any]) -> AllocationPolicy:
    """The study's verdict as the artifact the route serves: the learned policy if it cost less than both
    heuristics on the judged weeks, else the cheaper heuristic (the issue's rule)."""
    costs = {name: float(m["total_cost"]) for name, m in result["results"].items()}
    heuristic = min(costs[PROPORTIONAL], costs[FAIR_SHARE])
    winner = LEARNED if costs[LEARNED] < heuristic else result["best_heuristic"]
    return AllocationPolicy(
        served_policy=SERVED_NAMES[winner],
        features=list(FEATURES),
        theta=[round(v, 6) for v in result["theta_values"]],
        trained_weeks=TRAIN_WEEKS,
        judged_weeks=TEST_WEEKS,
        iterations=int(result["iterations"]),
        judged_cost={SERVED_NAMES[name]: round(cost, 2) for name, cost in costs.items()},
    )

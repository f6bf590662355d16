"""A market simulator for training and comparing pricing policies, calibrated to the fitted demand model.

Assumptions (also stated in reports/pricing.md):
- Each simulated SKU is a real Dominick's SKU: its unit cost, starting price and demand level are the
  SKU's own (median cost, median price, mean log units in training).
- Demand has constant own-price elasticity around the SKU's median price, drawn per episode from the
  brand's estimated 95% interval (so a policy cannot overfit one exact elasticity), and responds to the
  competitor index (the other brands' prices) with the pooled model's average cross-price effect.
- Competitors' prices follow the SKU's own history: each week the index is resampled from the weeks of
  that store's data, which keeps real promotion patterns.
- Weekly noise is multiplicative and lognormal with the spread of the demand model's holdout residuals.
- Profit = (price - unit cost) x units; revenue = price x units. No inventory limit, no stock-outs.
Every applied price goes through the same guard rails as production (`commerce_ai.pricing.guardrails`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.pricing.guardrails import GuardRailConfig, SkuPricing, decide
from commerce_ai.pricing.repricing import myopic_price
from model_build.pricing.demand import Comparison

START = datetime(2026, 1, 5, tzinfo=UTC)
ACTIONS = np.array([-0.10, -0.05, 0.0, 0.05, 0.10])  # relative price moves a policy may propose


@dataclass(frozen=True)
class SkuMarket:
    sku: str
    cost: float
    reference_price: float
    log_level: float  # mean log weekly units at the reference price
    elasticity_low: float
    elasticity_high: float
    cross_elasticity: float
    competitor_history: np.ndarray  # the competitor index, week by week, from the SKU's store
    noise_sd: float


@dataclass
class State:
    price: float
    competitor_index: float
    week: int
    elasticity: float
    history: list[float]
    changes: list[datetime]


Policy = Callable[[SkuMarket, State], float]  # proposes a price


class Market:
    def __init__(self, sku: SkuMarket, rng: np.random.Generator, guard: GuardRailConfig | None = None) -> None:
        self.sku = sku
        self.rng = rng
        self.guard = guard or GuardRailConfig()

    def reset(self) -> State:
        elasticity = float(self.rng.uniform(self.sku.elasticity_low, self.sku.elasticity_high))
        start = float(self.rng.choice(self.sku.competitor_history))
        return State(self.sku.reference_price, start, 0, elasticity, [self.sku.reference_price] * 8, [])

    def expected_units(self, price: float, state: State) -> float:
        own = state.elasticity * np.log(price / self.sku.reference_price)
        cross = self.sku.cross_elasticity * np.log(state.competitor_index / self.sku.reference_price)
        return float(np.exp(self.sku.log_level + own + cross))

    def step(self, state: State, proposed: float) -> tuple[State, dict[str, Any]]:
        now = START + timedelta(weeks=state.week)
        pricing = SkuPricing(
            sku=self.sku.sku,
            current_price=state.price,
            cost=self.sku.cost,
            price_history=state.history[-26:],
            recent_changes=state.changes,
            competitor_index=state.competitor_index,
        )
        decision = decide(pricing, proposed, now, self.guard)
        price = decision.new_price
        units = self.expected_units(price, state) * float(np.exp(self.rng.normal(0, self.sku.noise_sd)))
        outcome = {
            "price": price,
            "units": units,
            "revenue": price * units,
            "profit": (price - self.sku.cost) * units,
            "changed": float(decision.applied is not None),
            "blocked": float(decision.blocked),
            "proposed": proposed,
            "rules": ",".join(decision.rules),
            "reason": decision.reason,
        }
        changes = [*state.changes, now] if decision.applied is not None else state.changes
        following = State(
            price=price,
            competitor_index=float(self.rng.choice(self.sku.competitor_history)),
            week=state.week + 1,
            elasticity=state.elasticity,
            history=[*state.history, price],
            changes=changes[-10:],
        )
        return following, outcome


def run_episode(
    market: Market, policy: Policy, weeks: int, path: list[dict[str, Any]] | None = None
) -> dict[str, float]:
    """Totals over `weeks`; with `path`, also every week's outcome (price, rules fired, reason)."""
    state = market.reset()
    totals = {"profit": 0.0, "revenue": 0.0, "changes": 0.0, "blocked": 0.0}
    for _ in range(weeks):
        state, outcome = market.step(state, policy(market.sku, state))
        totals["profit"] += outcome["profit"]
        totals["revenue"] += outcome["revenue"]
        totals["changes"] += outcome["changed"]
        totals["blocked"] += outcome["blocked"]
        if path is not None:
            path.append(outcome)
    return totals


# -- baseline policies ----------------------------------------------------------------------------


def keep_prices(sku: SkuMarket, state: State) -> float:
    return state.price


def myopic_optimal(sku: SkuMarket, state: State) -> float:
    """Production's policy (`commerce_ai.pricing.repricing.myopic_price`) under the SKU's *estimated*
    elasticity, the middle of its interval: the simulated market draws the true one per episode."""
    return myopic_price(sku.cost, (sku.elasticity_low + sku.elasticity_high) / 2, state.price)


def markets_from_data(frame: pd.DataFrame, comparison: Comparison, skus: list[str]) -> list[SkuMarket]:
    """Simulated markets for `skus`, calibrated to the demand comparison's pooled model and residuals."""
    elasticities, cross_elasticity, noise_sd = (
        comparison.elasticities,
        comparison.cross_elasticity,
        comparison.residual_sd,
    )
    by_brand = elasticities.set_index("brand")
    markets = []
    for sku in skus:
        rows = frame[frame["sku"] == sku]
        store_rows = frame[frame["store"] == rows["store"].iloc[0]]
        competitors = store_rows[store_rows["brand"] != rows["brand"].iloc[0]].groupby("week")["price"].median()
        brand = int(rows["brand"].iloc[0])
        markets.append(
            SkuMarket(
                sku=sku,
                cost=float(rows["cost"].median()),
                reference_price=float(rows["price"].median()),
                log_level=float(np.log(rows["units"]).mean()),
                elasticity_low=float(by_brand.loc[brand, "low"]),
                elasticity_high=float(by_brand.loc[brand, "high"]),
                cross_elasticity=cross_elasticity,
                competitor_history=competitors.to_numpy(dtype=float),
                noise_sd=noise_sd,
            )
        )
    return markets

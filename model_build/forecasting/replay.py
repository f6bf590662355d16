"""Replay of the holdout weeks' real demand through two order-up-to policies, per SKU.

Weekly review (R = 1), lead time 1 week, service level 95%, lost sales (a week's unmet demand is gone).
The dynamic policy sets S each week from that week's forecast (p10/p50/p90 over the next L + R weeks,
`commerce_ai.forecasting.inventory.policy_from_quantiles`); the static one from the mean and standard
deviation of the SKU's weekly demand before the holdout (`static_policy`). Both start at their first S.
Costs (assumed, OJ has none): holding 0.5% of the unit price per unit and week (26% a year), a lost sale
costs the unit price (revenue). Turnover is annualised: units sold / average on hand x 52 / weeks.
Only SKUs with a sale recorded in every holdout week are replayed (a missing week is unknown demand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commerce_ai.forecasting.inventory import Policy, policy_from_quantiles, static_policy

LEAD_TIME = 1
REVIEW = 1
SERVICE = 0.95
HOLDING_RATE = 0.005
WEEKS_PER_YEAR = 52


@dataclass
class Outcome:
    demand: float = 0.0
    sold: float = 0.0
    lost: float = 0.0
    stockout_weeks: int = 0
    weeks: int = 0
    on_hand_sum: float = 0.0
    holding_cost: float = 0.0
    lost_cost: float = 0.0

    def add(self, other: Outcome) -> None:
        for field in self.__dataclass_fields__:
            setattr(self, field, getattr(self, field) + getattr(other, field))

    def summary(self) -> dict[str, float]:
        average = self.on_hand_sum / max(self.weeks, 1)
        return {
            "turnover_per_year": self.sold / max(average, 1e-9) * WEEKS_PER_YEAR / max(self.weeks, 1),
            "stockout_rate": self.stockout_weeks / max(self.weeks, 1),
            "fill_rate": self.sold / max(self.demand, 1e-9),
            "holding_cost": self.holding_cost,
            "lost_sale_cost": self.lost_cost,
            "total_cost": self.holding_cost + self.lost_cost,
            "average_on_hand": average,
        }


def simulate(demand: np.ndarray, price: np.ndarray, targets: list[Policy]) -> Outcome:
    """One SKU: week t sees its arrivals, sells min(on hand, demand), then orders up to targets[t]."""
    out = Outcome()
    on_hand = targets[0].order_up_to
    pipeline = [0.0] * LEAD_TIME
    for t, d in enumerate(demand):
        if LEAD_TIME:
            on_hand += pipeline.pop(0)
        sold = min(on_hand, d)
        on_hand -= sold
        out.demand += d
        out.sold += sold
        out.lost += d - sold
        out.stockout_weeks += int(d - sold > 1e-9)
        out.weeks += 1
        out.on_hand_sum += on_hand
        out.holding_cost += HOLDING_RATE * price[t] * on_hand
        out.lost_cost += price[t] * (d - sold)
        position = on_hand + sum(pipeline)
        order = max(0.0, targets[min(t + 1, len(targets) - 1)].order_up_to - position)
        if LEAD_TIME:
            pipeline.append(order)
        else:
            on_hand += order
    return out


def dynamic_targets(weekly_quantiles: list[np.ndarray]) -> list[Policy]:
    """weekly_quantiles: per week, the (horizons, 3) forecast made at its end (fewer horizons near the end
    of the data; the policy repeats the last one)."""
    return [
        policy_from_quantiles(q[:, 0].tolist(), q[:, 1].tolist(), q[:, 2].tolist(), LEAD_TIME, REVIEW, SERVICE)
        for q in weekly_quantiles
    ]


def static_targets(history: np.ndarray, weeks: int) -> list[Policy]:
    return [static_policy(list(history), LEAD_TIME, REVIEW, SERVICE)] * weeks

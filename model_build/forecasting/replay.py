"""Replay of the holdout weeks' real demand through two order-up-to policies, per SKU.

Weekly review (R = 1), lead time 1 week, service level 95%, lost sales (a week's unmet demand is gone).
The dynamic policy sets S each week from that week's forecast (p10/p50/p90 over the next L + R weeks,
`commerce_ai.forecasting.inventory.policy_from_quantiles`); the static one from the mean and standard
deviation of the SKU's weekly demand before the holdout (`static_policy`). Both start at their first S.
An order placed at the end of a week arrives L weeks later. Both run at the 95% target and at the
critical ratio of the assumed costs (99.5%: the service level those costs call for).
Costs (assumed, OJ has none): holding 0.5% of the unit price per unit and week (26% a year), a lost sale
costs the unit price (revenue). Turnover is annualised: units sold / average on hand x 52 / weeks.
Only SKUs with a sale recorded in every holdout week are replayed (a missing week is unknown demand).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from commerce_ai.forecasting.inventory import Policy, period_sd, policy_from_quantiles, static_policy

PolicyMaths = Callable[[Sequence[float], Sequence[float], Sequence[float], int, int, float], Policy]

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
    cycles: int = 0  # order-up-to levels whose whole protection interval is in the replay
    exceeded: int = 0  # ... of which the interval's demand went above the level (target: 1 - service)

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
            "exceedance": self.exceeded / max(self.cycles, 1),
        }


def simulate(demand: np.ndarray, price: np.ndarray, targets: list[Policy]) -> Outcome:
    """One SKU: week t sells min(on hand, demand), then orders up to targets[t + 1] (the policy of the
    forecast made at the end of week t); an order placed at the end of week t arrives at the end of week
    t + LEAD_TIME, in time for week t + LEAD_TIME + 1, so the stock on hand and on order covers L + R weeks.
    (Until this session an order arrived before the next week's demand: a lead time of 0 modelled as 1.)"""
    out = Outcome()
    on_hand = targets[0].order_up_to
    in_transit = deque([0.0] * LEAD_TIME)  # orders placed and not yet arrived, oldest first
    for t, d in enumerate(demand):
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
        position = on_hand + sum(in_transit)
        in_transit.append(max(0.0, targets[min(t + 1, len(targets) - 1)].order_up_to - position))
        on_hand += in_transit.popleft()
    protection = LEAD_TIME + REVIEW
    for t in range(len(demand) - protection + 1):  # targets[t] covers weeks t .. t + L + R - 1
        out.cycles += 1
        out.exceeded += int(float(np.sum(demand[t : t + protection])) > targets[t].order_up_to + 1e-9)
    return out


def dynamic_targets(
    weekly_quantiles: list[np.ndarray], service: float = SERVICE, policy: PolicyMaths = policy_from_quantiles
) -> list[Policy]:
    """weekly_quantiles: per week, the (horizons, 3) forecast made at its end (fewer horizons near the end
    of the data; the policy repeats the last one)."""
    return [
        policy(q[:, 0].tolist(), q[:, 1].tolist(), q[:, 2].tolist(), LEAD_TIME, REVIEW, service)
        for q in weekly_quantiles
    ]


def static_targets(history: np.ndarray, weeks: int, service: float = SERVICE) -> list[Policy]:
    return [static_policy(list(history), LEAD_TIME, REVIEW, service)] * weeks


def critical_ratio() -> float:
    """The cost-optimal service level of these costs (newsvendor): a lost sale costs the price, a unit held
    a week HOLDING_RATE of it, so running out is worth avoiding up to price / (price + holding)."""
    return 1.0 / (1.0 + HOLDING_RATE)


def band_normal_policy(
    p10: Sequence[float], p50: Sequence[float], p90: Sequence[float], lead_time: int, review: int, service: float
) -> Policy:
    """The reading the inventory policy used before this session, kept for the report's comparison: each
    period normal with mean p50 and sd (p90 - p10) / 2.563, means and variances added, S = mean + z sd."""
    z = NormalDist().inv_cdf(service)
    n = lead_time + review
    means = [p50[min(i, len(p50) - 1)] for i in range(n)]
    sds = [period_sd(p10[min(i, len(p10) - 1)], p90[min(i, len(p90) - 1)]) for i in range(n)]
    mean, sd = sum(means), math.sqrt(sum(v * v for v in sds))
    lead_sd = math.sqrt(sum(v * v for v in sds[:lead_time]))
    return Policy(mean, sd, z * sd, sum(means[:lead_time]) + z * lead_sd, mean + z * sd, z)

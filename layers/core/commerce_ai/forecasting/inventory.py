"""Inventory policy from forecast quantiles: safety stock, reorder point and order-up-to level.

A periodic-review (R, S) policy with lead time L, both in forecast periods. Each period's demand is
taken as normal with mean p50 and standard deviation (p90 - p10) / (2 z_0.9) (its p10-p90 band is then
80% wide, as forecast), periods independent. Over the protection interval L + R:

    mean = sum p50,  sd = sqrt(sum sd_i^2),  safety stock = z(service level) x sd,
    order-up-to S = mean + safety stock;
    reorder point = mean over L + z x sd over L (for a continuous review of the same SKU).

Periods past the forecast reuse its last period. The static policy the replay compares with takes the mean
and standard deviation of past weekly demand instead (sd x sqrt(L + R)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

Z_90 = NormalDist().inv_cdf(0.9)


@dataclass(frozen=True)
class Policy:
    mean_demand: float  # over lead time + review period
    demand_sd: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    service_z: float


def period_sd(p10: float, p90: float) -> float:
    return max(p90 - p10, 0.0) / (2.0 * Z_90)


def _spread(values: Sequence[float], periods: int) -> list[float]:
    """The first `periods` values, the last one repeated past the end."""
    if not values:
        raise ValueError("a policy needs at least one forecast period")
    return [values[min(i, len(values) - 1)] for i in range(periods)]


def policy_from_quantiles(
    p10: Sequence[float],
    p50: Sequence[float],
    p90: Sequence[float],
    lead_time: int,
    review_period: int,
    service_level: float,
) -> Policy:
    if lead_time < 0 or review_period < 1:
        raise ValueError("lead time must be >= 0 periods and the review period >= 1")
    if not 0.5 <= service_level < 1.0:
        raise ValueError("service level must be in [0.5, 1)")
    z = NormalDist().inv_cdf(service_level)
    protection = lead_time + review_period
    means = _spread(p50, protection)
    sds = [period_sd(lo, hi) for lo, hi in zip(_spread(p10, protection), _spread(p90, protection), strict=True)]
    mean = sum(means)
    sd = math.sqrt(sum(s * s for s in sds))
    lead_mean = sum(means[:lead_time])
    lead_sd = math.sqrt(sum(s * s for s in sds[:lead_time]))
    safety = z * sd
    return Policy(
        mean_demand=mean,
        demand_sd=sd,
        safety_stock=safety,
        reorder_point=lead_mean + z * lead_sd,
        order_up_to=mean + safety,
        service_z=z,
    )


def static_policy(history: Sequence[float], lead_time: int, review_period: int, service_level: float) -> Policy:
    """The textbook policy from past demand's mean and standard deviation (what the replay beats or not)."""
    values = [float(v) for v in history if not math.isnan(v)]
    if len(values) < 2:
        raise ValueError("a static policy needs at least two past periods")
    mu = sum(values) / len(values)
    sd = math.sqrt(sum((v - mu) ** 2 for v in values) / (len(values) - 1))
    z = NormalDist().inv_cdf(service_level)
    protection = lead_time + review_period
    return Policy(
        mean_demand=mu * protection,
        demand_sd=sd * math.sqrt(protection),
        safety_stock=z * sd * math.sqrt(protection),
        reorder_point=mu * lead_time + z * sd * math.sqrt(lead_time),
        order_up_to=mu * protection + z * sd * math.sqrt(protection),
        service_z=z,
    )

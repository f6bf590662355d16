"""Inventory policy from forecast quantiles: safety stock, reorder point and order-up-to level.

A periodic-review (R, S) policy with lead time L, both in forecast periods: an order placed at a review
arrives L periods later, so stock on hand and on order must cover the demand of the next L + R periods.

Each period's demand is the distribution its p10/p50/p90 describe, read as the model forecasts it: in
log1p units a normal with its median at log1p(p50) and a spread on each side that puts p10 and p90 where
the forecast has them (sigma_lo = (log1p p50 - log1p p10) / z_0.9, sigma_hi likewise). Weekly sales are
skewed to the right, and this reading keeps that: a normal read straight off the p10-p90 band in units
(the earlier reading) put the 95% quantile below where the forecast's own tail has it. Its mean and
variance in units are closed-form (`period_moments`). Over the protection interval the periods are taken
as independent: the means add and the variances add, and the demand of the interval is read as a
lognormal with that mean and variance (Fenton-Wilkinson: the sum of skewed periods, not the sum of their
quantiles). Then

    order-up-to S = its quantile at the service level, safety stock = S - mean demand,
    reorder point = the same quantile over the lead time alone (for a continuous review of the SKU).

Periods past the forecast reuse its last period. The static policy the replay compares with takes the mean
and standard deviation of past weekly demand instead (normal, sd x sqrt(L + R)).
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
    """The normal reading of a p10-p90 band in units (the static policy's and the allocation's scale)."""
    return max(p90 - p10, 0.0) / (2.0 * Z_90)


def period_moments(p10: float, p50: float, p90: float) -> tuple[float, float]:
    """Mean and variance in units of the period whose log1p demand is normal around log1p(p50) with
    spreads sigma_lo below and sigma_hi above: X = m + sigma Z, sigma by the side of Z. For t = 1, 2,
    E[e^(tX)] = e^(tm) (e^(t^2 sigma_lo^2 / 2) Phi(-t sigma_lo) + e^(t^2 sigma_hi^2 / 2) Phi(t sigma_hi))."""
    m = math.log1p(max(p50, 0.0))
    lo = max(m - math.log1p(max(p10, 0.0)), 0.0) / Z_90
    hi = max(math.log1p(max(p90, 0.0)) - m, 0.0) / Z_90
    cdf = NormalDist().cdf

    def moment(t: float) -> float:
        return math.exp(t * m) * (
            math.exp((t * lo) ** 2 / 2) * cdf(-t * lo) + math.exp((t * hi) ** 2 / 2) * cdf(t * hi)
        )

    first, second = moment(1.0), moment(2.0)
    return first - 1.0, max(second - first * first, 0.0)


def _spread(values: Sequence[float], periods: int) -> list[float]:
    """The first `periods` values, the last one repeated past the end."""
    if not values:
        raise ValueError("a policy needs at least one forecast period")
    return [values[min(i, len(values) - 1)] for i in range(periods)]


def sum_quantile(moments: Sequence[tuple[float, float]], z: float) -> tuple[float, float, float]:
    """(mean, sd, quantile at z) of the sum of independent periods given their (mean, variance) in units:
    the sum of (1 + demand) read as a lognormal of the same mean and variance (Fenton-Wilkinson), less the
    periods' ones again."""
    if not moments:
        return 0.0, 0.0, 0.0
    mean = sum(m for m, _ in moments)
    variance = sum(v for _, v in moments)
    shifted = mean + len(moments)
    sigma2 = math.log1p(variance / (shifted * shifted))
    mu = math.log(shifted) - sigma2 / 2
    return mean, math.sqrt(variance), math.exp(mu + z * math.sqrt(sigma2)) - len(moments)


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
    moments = [
        period_moments(lo, mid, hi)
        for lo, mid, hi in zip(
            _spread(p10, protection), _spread(p50, protection), _spread(p90, protection), strict=True
        )
    ]
    mean, sd, order_up_to = sum_quantile(moments, z)
    _, _, reorder_point = sum_quantile(moments[:lead_time], z)
    return Policy(
        mean_demand=mean,
        demand_sd=sd,
        safety_stock=order_up_to - mean,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
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

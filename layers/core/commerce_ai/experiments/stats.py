"""Statistics of an A/B experiment on per-user proportions: pure Python (the core layer has no numpy or
scipy; `statistics.NormalDist` and `math` are enough).

The unit is the user: each user of an arm either clicked (converted) after their first exposure or not,
so a rate is a binomial proportion over the arm's users.
- A rate's 95% interval is Wilson's score interval (good coverage at small counts and rates near 0 or 1).
- The difference of a treatment's rate against control has a 95% Wald interval with unpooled variances,
  and a two-sided p-value from the two-proportion z-test (variance pooled under the null hypothesis of
  equal rates).
- The planned sample size per arm comes from the same normal approximation (see `planned_users`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

ALPHA = 0.05
POWER = 0.8
_NORMAL = NormalDist()
Z_95 = _NORMAL.inv_cdf(1 - ALPHA / 2)  # 1.959963...


@dataclass(frozen=True)
class Rate:
    successes: int
    trials: int
    rate: float | None  # None without trials
    low: float | None
    high: float | None

    def as_json(self) -> dict[str, object]:
        ci = [round(self.low, 6), round(self.high, 6)] if self.low is not None and self.high is not None else None
        return {"rate": None if self.rate is None else round(self.rate, 6), "ci95": ci}


@dataclass(frozen=True)
class Difference:
    difference: float | None  # treatment rate minus control rate; None when an arm has no users
    low: float | None
    high: float | None
    p_value: float | None
    significant: bool

    def as_json(self) -> dict[str, object]:
        ci = [round(self.low, 6), round(self.high, 6)] if self.low is not None and self.high is not None else None
        return {
            "difference": None if self.difference is None else round(self.difference, 6),
            "ci95": ci,
            "p_value": None if self.p_value is None else round(self.p_value, 6),
            "significant": self.significant,
        }


def wilson(successes: int, trials: int, z: float = Z_95) -> Rate:
    """The proportion with its Wilson score interval."""
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} must lie in 0..trials ({trials})")
    if trials == 0:
        return Rate(0, 0, None, None, None)
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    # at 0 (all) successes the bound is exactly 0 (1); rounding would leave it a hair off
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return Rate(successes, trials, p, low, high)


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def compare(treatment: tuple[int, int], control: tuple[int, int], alpha: float = ALPHA) -> Difference:
    """Treatment (successes, users) against control: difference, unpooled Wald interval, pooled z-test p."""
    (x_t, n_t), (x_c, n_c) = treatment, control
    if n_t == 0 or n_c == 0:
        return Difference(None, None, None, None, False)
    p_t, p_c = x_t / n_t, x_c / n_c
    difference = p_t - p_c
    z_crit = _NORMAL.inv_cdf(1 - alpha / 2)
    half = z_crit * math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    pooled = (x_t + x_c) / (n_t + n_c)
    null_se = math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    p_value = 1.0 if null_se == 0 else two_sided_p(difference / null_se)
    return Difference(difference, difference - half, difference + half, p_value, p_value < alpha)


def planned_users(
    baseline: float, effect: float, share_ratio: float = 1.0, alpha: float = ALPHA, power: float = POWER
) -> tuple[int, int]:
    """Users needed in (control, treatment) to detect an absolute lift `effect` over the `baseline` rate
    with a two-sided test at `alpha` and the given power, when the treatment gets `share_ratio` times the
    control's traffic (k). The normal-approximation formula, with unpooled variances:

        n_control = (z_{1-alpha/2} + z_{power})^2 * (p1 (1 - p1) + p2 (1 - p2) / k) / effect^2
        n_treatment = k * n_control,   p1 = baseline, p2 = baseline + effect

    (with k = 1: n = (1.96 + 0.84)^2 (p1 q1 + p2 q2) / effect^2 per arm). Rounded up.
    """
    p1, p2 = baseline, baseline + effect
    if not (0 < p1 < 1 and 0 < p2 < 1) or effect == 0:
        raise ValueError("baseline and baseline + effect must both lie strictly between 0 and 1, effect non-zero")
    if share_ratio <= 0:
        raise ValueError("share_ratio must be positive")
    z = _NORMAL.inv_cdf(1 - alpha / 2) + _NORMAL.inv_cdf(power)
    control = z * z * (p1 * (1 - p1) + p2 * (1 - p2) / share_ratio) / (effect * effect)
    return math.ceil(control), math.ceil(control * share_ratio)

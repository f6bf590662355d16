"""The statistics, proven by simulation: A/A experiments are significant about 5% of the time (not more),
and a real lift of the minimum detectable effect is found at the planned sample size with about the
planned power. The simulations draw binomial counts with numpy (seeded); the code under test is the
pure-Python `stats` that serving runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from commerce_ai.experiments import stats

RUNS = 2_000


def test_wilson_matches_the_closed_form() -> None:
    # 10 of 100 at 95%: Wilson's interval, computed by hand from the score-interval formula
    rate = stats.wilson(10, 100)
    assert rate.rate == 0.1
    assert rate.low == pytest.approx(0.05522914, abs=1e-6)
    assert rate.high == pytest.approx(0.17436566, abs=1e-6)
    assert stats.wilson(0, 20).low == 0.0 and 0 < (stats.wilson(0, 20).high or 0) < 0.17
    assert stats.wilson(0, 0).rate is None
    with pytest.raises(ValueError):
        stats.wilson(3, 2)


def test_compare_gives_the_difference_its_interval_and_p_value() -> None:
    result = stats.compare((120, 1000), (100, 1000))
    assert result.difference == pytest.approx(0.02)
    se = math.sqrt(0.12 * 0.88 / 1000 + 0.1 * 0.9 / 1000)
    assert result.low == pytest.approx(0.02 - 1.959964 * se, abs=1e-6)
    assert result.high == pytest.approx(0.02 + 1.959964 * se, abs=1e-6)
    pooled = 0.11
    z = 0.02 / math.sqrt(pooled * (1 - pooled) * 2 / 1000)
    assert result.p_value == pytest.approx(math.erfc(z / math.sqrt(2)))
    assert result.p_value == pytest.approx(0.1529, abs=1e-3)
    assert not result.significant
    assert stats.compare((0, 10), (0, 10)).p_value == 1.0  # no variation at all: nothing to detect
    assert stats.compare((1, 10), (0, 0)).difference is None


def test_planned_users_follow_the_formula() -> None:
    control, treatment = stats.planned_users(0.1, 0.02)
    z = 1.959964 + 0.841621
    expected = math.ceil(z * z * (0.1 * 0.9 + 0.12 * 0.88) / 0.02**2)
    assert (control, treatment) == (expected, expected)
    assert expected == 3_839
    # a treatment with a quarter of the control's traffic needs fewer users, the control more
    small_c, small_t = stats.planned_users(0.1, 0.02, share_ratio=0.25)
    assert small_c > control and small_t < treatment
    with pytest.raises(ValueError):
        stats.planned_users(0.99, 0.02)


def _significant_share(p_control: float, p_treatment: float, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    controls = rng.binomial(n, p_control, RUNS)
    treatments = rng.binomial(n, p_treatment, RUNS)
    significant = sum(
        stats.compare((int(t), n), (int(c), n)).significant for t, c in zip(treatments, controls, strict=True)
    )
    return significant / RUNS


@pytest.mark.parametrize(("rate", "users", "seed"), [(0.1, 2_000, 11), (0.03, 5_000, 12), (0.5, 500, 13)])
def test_aa_experiments_are_significant_about_five_percent_of_the_time(rate: float, users: int, seed: int) -> None:
    # Given 2,000 A/A experiments (both arms the same rate), when each is tested at alpha 0.05,
    share = _significant_share(rate, rate, users, seed)
    # then about 5% come out significant, and not more than chance allows: 0.05 plus three binomial
    # standard deviations of a share of 2,000 runs (0.0146), a bound a correct test exceeds 0.1% of the time.
    bound = 3 * math.sqrt(0.05 * 0.95 / RUNS)
    assert share <= 0.05 + bound
    assert share >= 0.05 - bound  # nor much fewer: the test is not needlessly conservative


def test_a_lift_of_the_mde_is_found_at_the_planned_sample_size_with_the_planned_power() -> None:
    baseline, effect = 0.1, 0.02
    n, _ = stats.planned_users(baseline, effect)
    # Given 2,000 experiments with a real lift equal to the MDE, each run to the planned size,
    power = _significant_share(baseline, baseline + effect, n, seed=21)
    # then the lift is detected with about the planned power (0.8; 3 SDs of 2,000 runs is 0.027).
    assert power >= 0.75
    assert abs(power - stats.POWER) < 3 * math.sqrt(0.8 * 0.2 / RUNS)


def test_a_lift_is_mostly_missed_at_a_tenth_of_the_planned_size() -> None:
    n, _ = stats.planned_users(0.1, 0.02)
    assert _significant_share(0.1, 0.12, n // 10, seed=22) < 0.3

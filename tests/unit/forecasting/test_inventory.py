"""Safety stock, reorder point and order-up-to against a case worked by hand."""

from __future__ import annotations

import math

import pytest

from commerce_ai.forecasting.inventory import policy_from_quantiles, static_policy


def test_the_hand_worked_case() -> None:
    # Each week: p10 80, p50 100, p90 120. In log1p units: m = ln 101 = 4.615121, and the spreads that put
    # p10 and p90 in place (z_0.9 = 1.281552): below (ln 101 - ln 81) / z_0.9 = 0.172191, above
    # (ln 121 - ln 101) / z_0.9 = 0.140978. A week's moments, E[e^(tX)] = e^(tm) (e^(t^2 lo^2 / 2) Phi(-t lo)
    # + e^(t^2 hi^2 / 2) Phi(t hi)): E[e^X] = 100.96969, E[e^2X] = 10439.5314, so mean 99.96969 units and
    # variance 10439.5314 - 100.96969^2 = 244.6527 (sd 15.6414).
    # Lead time 2 weeks, review 1 week, 95% (z = 1.644854), so 3 weeks of protection: mean 299.9091,
    # variance 733.9581 (sd 27.0917). 1 + demand summed is read as a lognormal of mean 302.9091 and that
    # variance: sigma^2 = ln(1 + 733.9581 / 302.9091^2) = 0.0079674, mu = ln 302.9091 - sigma^2 / 2 = 5.709449;
    # order-up-to = e^(mu + z sigma) - 3 = 346.418, safety stock 346.418 - 299.909 = 46.509.
    # Reorder point over the 2 lead-time weeks: mean 199.9394, variance 489.3054, sigma^2 = 0.0119274,
    # mu = 5.302004, e^(mu + z sigma) - 2 = 238.241.
    policy = policy_from_quantiles([80] * 8, [100] * 8, [120] * 8, lead_time=2, review_period=1, service_level=0.95)
    assert policy.mean_demand == pytest.approx(299.9091, abs=1e-3)
    assert policy.demand_sd == pytest.approx(27.0917, abs=1e-3)
    assert policy.safety_stock == pytest.approx(46.509, abs=1e-2)
    assert policy.order_up_to == pytest.approx(346.418, abs=1e-2)
    assert policy.reorder_point == pytest.approx(238.241, abs=1e-2)


def test_a_right_skewed_week_gets_more_stock_above_its_median_than_below() -> None:
    # p10 50, p50 100, p90 200: one period at 95% sits above p90, where the forecast's own tail has it
    # (a normal read off the band in units would put it at 100 + 1.645 x 150 / 2.563 = 196, below p90).
    policy = policy_from_quantiles([50], [100], [200], lead_time=0, review_period=1, service_level=0.95)
    assert policy.order_up_to > 200
    assert policy.mean_demand > 100  # the mean of a right-skewed week is above its median


def test_periods_past_the_forecast_repeat_its_last_one() -> None:
    short = policy_from_quantiles([8, 9], [10, 20], [12, 31], lead_time=3, review_period=1, service_level=0.9)
    spelled = policy_from_quantiles(
        [8, 9, 9, 9], [10, 20, 20, 20], [12, 31, 31, 31], lead_time=3, review_period=1, service_level=0.9
    )
    assert short == spelled


def test_the_static_policy_uses_past_mean_and_sd() -> None:
    policy = static_policy([90, 110, 90, 110], lead_time=1, review_period=1, service_level=0.95)
    sd = math.sqrt(400 / 3)
    assert policy.order_up_to == pytest.approx(200 + 1.6448536 * sd * math.sqrt(2), abs=1e-4)


@pytest.mark.parametrize(("lead", "review", "level"), [(-1, 1, 0.9), (1, 0, 0.9), (1, 1, 1.0), (1, 1, 0.4)])
def test_impossible_settings_are_refused(lead: int, review: int, level: float) -> None:
    with pytest.raises(ValueError):
        policy_from_quantiles([1], [2], [3], lead, review, level)

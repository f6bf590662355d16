"""Safety stock, reorder point and order-up-to against a case worked by hand."""

from __future__ import annotations

import math

import pytest

from commerce_ai.forecasting.inventory import policy_from_quantiles, static_policy


def test_the_hand_worked_case() -> None:
    # Each week: p10 80, p50 100, p90 120, so sd = (120 - 80) / (2 x 1.28155) = 15.6061 a week.
    # Lead time 2 weeks, review 1 week, 95% (z = 1.64485):
    #   protection 3 weeks: mean 300, sd 15.6061 x sqrt(3) = 27.0305, safety stock 1.64485 x 27.0305 = 44.462,
    #   order-up-to 344.462; reorder point over the lead time: 200 + 1.64485 x 15.6061 x sqrt(2) = 236.302.
    policy = policy_from_quantiles([80] * 8, [100] * 8, [120] * 8, lead_time=2, review_period=1, service_level=0.95)
    assert policy.mean_demand == pytest.approx(300.0)
    assert policy.demand_sd == pytest.approx(27.0305, abs=1e-3)
    assert policy.safety_stock == pytest.approx(44.462, abs=1e-2)
    assert policy.order_up_to == pytest.approx(344.462, abs=1e-2)
    assert policy.reorder_point == pytest.approx(236.302, abs=1e-2)


def test_periods_past_the_forecast_repeat_its_last_one() -> None:
    policy = policy_from_quantiles([8, 9], [10, 20], [12, 31], lead_time=3, review_period=1, service_level=0.5)
    assert policy.safety_stock == pytest.approx(0.0, abs=1e-9)  # z(0.5) = 0
    assert policy.order_up_to == pytest.approx(10 + 20 * 3)


def test_the_static_policy_uses_past_mean_and_sd() -> None:
    policy = static_policy([90, 110, 90, 110], lead_time=1, review_period=1, service_level=0.95)
    sd = math.sqrt(400 / 3)
    assert policy.order_up_to == pytest.approx(200 + 1.6448536 * sd * math.sqrt(2), abs=1e-4)


@pytest.mark.parametrize(("lead", "review", "level"), [(-1, 1, 0.9), (1, 0, 0.9), (1, 1, 1.0), (1, 1, 0.4)])
def test_impossible_settings_are_refused(lead: int, review: int, level: float) -> None:
    with pytest.raises(ValueError):
        policy_from_quantiles([1], [2], [3], lead, review, level)

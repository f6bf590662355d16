"""The model's input for one payment, from the entities' state just before it: velocity, novelty, travel,
the login session the payment belongs to, and the graph snapshot's features."""

from __future__ import annotations

import math

import pytest

from commerce_ai.risk.decisions import RuleConfig, post_model_rules
from commerce_ai.risk.features import (
    FEATURE_NAMES,
    MAX_KNOWN_HOURS,
    RULE_SIGNALS,
    SESSION_SECONDS,
    VELOCITY_FEATURES,
)
from commerce_ai.risk.graph import GRAPH_FEATURES, Edge, build_snapshot
from commerce_ai.risk.velocity import haversine_km
from tests.unit.risk.builders import DAY, HOUR, MADRID, MINUTE, MOSCOW, T0, TOLEDO, MemoryWorld


def test_feature_names_are_the_velocity_then_the_graph_features_once_each() -> None:
    assert FEATURE_NAMES == VELOCITY_FEATURES + GRAPH_FEATURES
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES) == 49
    # count and amount per user, device, IP and merchant over 1 h, 24 h and 7 d: all 24 of them
    windows = [n for n in FEATURE_NAMES if "_payments_" in n or ("_amount_" in n and n.endswith("_log"))]
    assert len(windows) == 24 and all(any(w in n for w in ("_1h", "_24h", "_7d")) for n in windows)
    assert len(MemoryWorld().features(T0)) == len(FEATURE_NAMES) + len(RULE_SIGNALS)  # the rules read both


def test_a_first_payment_sees_a_stranger() -> None:
    # Given nothing is known about anyone
    features = MemoryWorld().features(T0, amount=99.0)
    # then only the amount is informative; everything else is "new" or neutral
    assert features["amount_log"] == pytest.approx(math.log(100.0))
    assert features["device_new_for_user"] == features["ip_new_for_user"] == 1.0
    assert features["seconds_since_last_log"] == -1.0
    assert features["minutes_since_login"] == 120.0
    assert features["user_component_size_log"] == 0.0
    assert features["device_accounts"] == features["ip_accounts"] == 1.0
    zero = set(FEATURE_NAMES) - {
        "amount_log",
        "device_new_for_user",
        "ip_new_for_user",
        "seconds_since_last_log",
        "minutes_since_login",
        "device_accounts",
        "ip_accounts",
    }
    assert {name: features[name] for name in zero} == dict.fromkeys(zero, 0.0)


def test_a_payment_is_described_by_the_state_before_it() -> None:
    # Given two payments a minute apart
    world = MemoryWorld()
    first = world.pay(T0)
    second = world.pay(T0 + MINUTE)
    # then each counts only what came before it
    assert first["user_payments_1h"] == 0
    assert second["user_payments_1h"] == second["device_payments_1h"] == second["ip_payments_1h"] == 1
    assert second["merchant_payments_1h"] == 1
    assert second["seconds_since_last_log"] == pytest.approx(math.log1p(60))


def test_velocity_windows_of_user_device_ip_and_merchant() -> None:
    # Given payments 8 days, 3 days, 5 hours and 10 minutes before now (one each)
    world = MemoryWorld()
    now = T0 + 8 * DAY
    for ago in (8 * DAY, 3 * DAY, 5 * HOUR, 10 * MINUTE):
        world.pay(now - ago, amount=10.0)
    features = world.features(now, amount=10.0)
    # then the 1h, 24h and 7d windows see 1, 2 and 3 of them
    assert (features["user_payments_1h"], features["user_payments_24h"], features["user_payments_7d"]) == (1, 2, 3)
    assert features["user_amount_24h_log"] == pytest.approx(math.log1p(20))
    assert features["user_amount_7d_log"] == pytest.approx(math.log1p(30))
    assert (features["device_payments_1h"], features["device_payments_24h"]) == (1, 2)
    assert features["device_amount_24h_log"] == pytest.approx(math.log1p(20))
    assert (features["ip_payments_1h"], features["ip_payments_24h"]) == (1, 2)
    assert (features["merchant_payments_1h"], features["merchant_payments_24h"]) == (1, 2)
    assert features["merchant_payments_7d"] == 3
    assert features["merchant_spike"] == pytest.approx(2 / (3 / 7 + 1))
    assert features["user_age_days"] == pytest.approx(8.0)


def test_amount_against_the_users_mean() -> None:
    world = MemoryWorld()
    for t in range(4):
        world.pay(T0 + t * HOUR, amount=19.0)
    features = world.features(T0 + 5 * HOUR, amount=399.0)
    assert features["amount_vs_user_mean_log"] == pytest.approx(math.log(400 / 20))


def test_new_device_and_new_ip_flags() -> None:
    # Given a user who has paid on d1 from 10.0.0.1
    world = MemoryWorld()
    world.pay(T0, device="d1", ip="10.0.0.1")
    # then the same device and IP are known, another device or IP is new
    known = world.features(T0 + 3 * HOUR, device="d1", ip="10.0.0.1")
    assert (known["device_new_for_user"], known["ip_new_for_user"]) == (0.0, 0.0)
    assert known["device_known_hours"] == pytest.approx(3.0)
    other_device = world.features(T0 + 3 * HOUR, device="d2", ip="10.0.0.1")
    assert (other_device["device_new_for_user"], other_device["ip_new_for_user"]) == (1.0, 0.0)
    assert other_device["device_known_hours"] == 0.0
    other_ip = world.features(T0 + 3 * HOUR, device="d1", ip="10.0.0.9")
    assert (other_ip["device_new_for_user"], other_ip["ip_new_for_user"]) == (0.0, 1.0)
    # and how long a device has been known is capped
    assert world.features(T0 + 90 * DAY)["device_known_hours"] == MAX_KNOWN_HOURS
    # another user's device is new for this user, however well the device knows the other user
    assert world.features(T0 + HOUR, user="u2")["device_new_for_user"] == 1.0


def test_distinct_users_per_device_and_ip_in_seven_days() -> None:
    world = MemoryWorld()
    world.pay(T0, user="old")
    for user in ("a", "b", "c"):
        world.pay(T0 + 6 * DAY, user=user)
    features = world.features(T0 + 7 * DAY + HOUR)
    assert features["device_users_7d"] == features["ip_users_7d"] == 3


def test_failed_logins_are_counted_in_the_hour_and_the_day() -> None:
    # Given six failed logins: three in the last hour, two earlier in the day, one two days ago
    world = MemoryWorld()
    now = T0 + 2 * DAY
    for ago in (2 * DAY, 6 * HOUR, 3 * HOUR, 40 * MINUTE, 20 * MINUTE, 1 * MINUTE):
        world.login(now - ago, success=False)
    features = world.features(now)
    # then the 1h window sees three and the 24h window five
    assert features["user_failed_logins_1h"] == 3
    assert features["user_failed_logins_24h"] == 5
    # and failed logins do not make the device known
    assert features["device_new_for_user"] == 1.0


def test_distance_speed_and_time_since_the_last_event() -> None:
    world = MemoryWorld()
    world.pay(T0, place=MADRID)
    features = world.features(T0 + 2 * HOUR, place=TOLEDO)
    distance = haversine_km(*MADRID, *TOLEDO)
    assert 60 < distance < 80
    assert features["distance_km_log"] == pytest.approx(math.log1p(distance))
    assert features["speed_kmh"] == pytest.approx(distance / 2)
    assert features["seconds_since_last_log"] == pytest.approx(math.log1p(2 * HOUR))


# ----------------------------------------------------------------------------------- impossible travel


def travelled_world() -> tuple[MemoryWorld, float, float]:
    """A user pays in Madrid on d1, then 50 minutes later logs in from Moscow on a new device d2.
    Returns the world, the login time and the implied speed."""
    world = MemoryWorld()
    world.pay(T0, device="d1", place=MADRID)
    login = T0 + 50 * MINUTE
    world.login(login, device="d2", ip="10.9.9.9", place=MOSCOW)
    distance = haversine_km(*MADRID, *MOSCOW)
    assert distance > 2000
    return world, login, distance / (50 / 60)


def test_impossible_travel_at_login_is_carried_to_a_payment_on_that_device() -> None:
    # Given a login 3,400 km away 50 minutes after the last payment, on a new device
    world, login, speed = travelled_world()
    assert speed > 1000
    # when the user pays on that device ten minutes later
    features = world.features(login + 10 * MINUTE, device="d2", ip="10.9.9.9", place=MOSCOW)
    # then the payment carries the session's speed and new device, although it is not itself far away
    assert features["session_speed_kmh"] == pytest.approx(round(speed, 1))
    assert features["session_new_device"] == 1.0
    assert features["minutes_since_login"] == pytest.approx(10.0)
    assert features["speed_kmh"] == pytest.approx(0.0)
    assert features["device_new_for_user"] == 0.0  # the login made it known; the session remembers it was new
    # and the impossible-travel rule fires on it
    hits = post_model_rules(50.0, features, RuleConfig())
    assert [h.name for h in hits] == ["impossible_travel_new_device"]


def test_the_session_is_not_carried_to_a_payment_on_another_device() -> None:
    world, login, _ = travelled_world()
    features = world.features(login + 10 * MINUTE, device="d1", place=MOSCOW)
    assert (features["session_speed_kmh"], features["session_new_device"]) == (0.0, 0.0)
    assert features["minutes_since_login"] == 120.0
    assert post_model_rules(50.0, features, RuleConfig()) == []


def test_the_session_lasts_session_seconds_after_the_login() -> None:
    world, login, speed = travelled_world()
    at_end = world.features(login + SESSION_SECONDS, device="d2", place=MOSCOW)
    assert at_end["session_speed_kmh"] == pytest.approx(round(speed, 1))
    assert at_end["minutes_since_login"] == 120.0
    expired = world.features(login + SESSION_SECONDS + 1, device="d2", place=MOSCOW)
    assert (expired["session_speed_kmh"], expired["session_new_device"]) == (0.0, 0.0)
    assert expired["minutes_since_login"] == 120.0
    # a payment timestamped before the login does not belong to its session either
    before = world.features(login - 1, device="d2", place=MOSCOW)
    assert before["session_speed_kmh"] == 0.0


def test_payments_in_the_session_keep_it_and_a_new_login_replaces_it() -> None:
    # Given the impossible login and a first payment in its session
    world, login, speed = travelled_world()
    world.pay(login + 5 * MINUTE, device="d2", place=MOSCOW)
    # then a second payment is still in the session
    assert world.features(login + HOUR, device="d2", place=MOSCOW)["session_speed_kmh"] == pytest.approx(
        round(speed, 1)
    )
    # a failed login does not touch the session
    world.login(login + 70 * MINUTE, device="d3", success=False, place=MADRID)
    assert world.features(login + 75 * MINUTE, device="d2", place=MOSCOW)["session_new_device"] == 1.0
    # but a successful login on d1 opens a new session: d2's payments no longer carry the old one
    world.login(login + 80 * MINUTE, device="d1", place=MOSCOW)
    later = world.features(login + 85 * MINUTE, device="d2", place=MOSCOW)
    assert (later["session_speed_kmh"], later["session_new_device"]) == (0.0, 0.0)
    on_d1 = world.features(login + 85 * MINUTE, device="d1", place=MOSCOW)
    assert on_d1["session_new_device"] == 0.0
    assert on_d1["minutes_since_login"] == pytest.approx(5.0)


# ---------------------------------------------------------------------------------------------- graph


def test_graph_features_come_from_the_snapshot() -> None:
    # Given a snapshot where u1 and u2 share d1, u2 committed fraud at m1
    graph = build_snapshot(
        [Edge("u1", "d1", "10.0.0.1", "m1", False), Edge("u2", "d1", "10.0.0.2", "m1", True)], "2026-01-01"
    )
    features = MemoryWorld().features(T0, graph=graph)
    assert features["user_component_size_log"] == pytest.approx(math.log(2))
    assert features["user_neighbour_fraud_density"] == 1.0
    assert (features["device_accounts"], features["device_fraud_rate"]) == (2.0, round(1 / 7, 4))
    assert (features["ip_accounts"], features["ip_fraud_rate"]) == (1.0, 0.0)
    assert features["merchant_fraud_rate"] == round(1 / 7, 4)

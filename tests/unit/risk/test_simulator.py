"""The simulator's contract: deterministic, API-shaped, time-ordered, labelled, at the configured scale."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from pydantic import ValidationError

from model_build.risk.simulator import (
    FRAUD_SCENARIOS,
    LOGIN_COLUMNS,
    PAYMENT_COLUMNS,
    SCENARIOS,
    Simulation,
    SimulatorConfig,
    simulate,
)
from tests.unit.risk.conftest import SMALL


def test_the_same_seed_gives_identical_frames_and_another_seed_does_not(world: Simulation) -> None:
    again = simulate(SMALL)
    for name in ("customers", "merchants", "logins", "payments"):
        pd.testing.assert_frame_equal(getattr(world, name), getattr(again, name))
    other = simulate(SMALL.model_copy(update={"seed": SMALL.seed + 1}))
    assert not world.payments["amount"].equals(other.payments["amount"])
    assert not world.payments["timestamp"].equals(other.payments["timestamp"])


def test_changing_one_scenario_leaves_legit_traffic_alone(world: Simulation) -> None:
    fewer = simulate(SMALL.model_copy(update={"n_card_testing_bursts": 2}))
    legit = world.payments[~world.payments["is_fraud"]]
    fewer_legit = fewer.payments[~fewer.payments["is_fraud"]]
    columns = ["timestamp", "amount", "lat", "lon", "payment_method", "is_fraud"]
    pd.testing.assert_frame_equal(legit[columns].reset_index(drop=True), fewer_legit[columns].reset_index(drop=True))


def test_payments_have_the_api_fields_plus_ground_truth(world: Simulation) -> None:
    payments = world.payments
    assert tuple(payments.columns) == PAYMENT_COLUMNS
    for column in ("transaction_id", "user_id", "device_id", "ip", "merchant_id", "currency", "payment_method"):
        assert pd.api.types.is_string_dtype(payments[column]), column
    assert pd.api.types.is_string_dtype(payments["card_id"])
    for column in ("amount", "lat", "lon"):
        assert payments[column].dtype == "float64", column
    assert isinstance(payments["timestamp"].dtype, pd.DatetimeTZDtype)
    assert str(payments["timestamp"].dt.tz) == "UTC"
    assert payments["is_fraud"].dtype == bool
    assert set(payments["scenario"]) <= set(SCENARIOS)
    assert set(payments["currency"]) == {"USD"}
    assert set(payments["payment_method"]) <= {"card", "wallet"}
    assert (payments["amount"] > 0).all()
    assert payments["lat"].between(-90, 90).all() and payments["lon"].between(-180, 180).all()
    assert payments["transaction_id"].is_unique
    assert payments["merchant_id"].isin(world.merchants["merchant_id"]).all()
    assert payments["user_id"].isin(world.customers["user_id"]).all()


def test_logins_customers_and_merchants_have_their_columns(world: Simulation) -> None:
    logins = world.logins
    assert tuple(logins.columns) == LOGIN_COLUMNS
    assert set(logins["event_type"]) == {"login"}
    assert logins["success"].dtype == bool and logins["is_fraud"].dtype == bool
    assert str(logins["timestamp"].dt.tz) == "UTC"
    assert logins["login_id"].is_unique
    customers = world.customers
    assert {"user_id", "home_lat", "home_lon", "devices", "cards", "address_id", "home_ip", "role"} <= set(customers)
    assert customers["user_id"].is_unique
    assert all(isinstance(devices, tuple) and devices for devices in customers["devices"])
    assert set(customers["role"]) == {"customer", "card_tester", "ring_member"}
    merchants = world.merchants
    assert {"merchant_id", "category", "lat", "lon", "is_compromised", "compromised_from", "is_colluding"} <= set(
        merchants
    )
    assert merchants["compromised_from"].notna().eq(merchants["is_compromised"]).all()


def test_ips_are_private_addresses(world: Simulation) -> None:
    ips = pd.concat([world.payments["ip"], world.logins["ip"], world.customers["home_ip"]])
    octets = ips.str.split(".", expand=True).astype(int)
    assert (octets[0] == 10).all()
    assert octets.iloc[:, 1:].isin(range(256)).all().all()


def test_events_are_in_time_order_within_the_period(world: Simulation) -> None:
    start = pd.Timestamp(SMALL.start)
    for frame in (world.logins, world.payments):
        assert frame["timestamp"].is_monotonic_increasing
        assert frame["timestamp"].min() >= start - pd.Timedelta(minutes=5)  # failed logins just before a session
        assert frame["timestamp"].max() < start + pd.Timedelta(days=SMALL.days, hours=1)
    stream = world.events()
    assert stream["timestamp"].is_monotonic_increasing
    assert set(stream["event_type"]) == {"login", "payment"}


def test_every_scenario_is_present_and_labelled(world: Simulation) -> None:
    for frame in (world.payments, world.logins):
        assert set(frame["scenario"]) == set(SCENARIOS)
        assert frame["is_fraud"].eq(frame["scenario"] != "legit").all()
    first_fraud = world.payments.loc[world.payments["is_fraud"], "timestamp"].min()
    assert first_fraud >= pd.Timestamp(SMALL.start) + pd.Timedelta(days=SMALL.warmup_days)


def test_scenario_counts_follow_the_config_and_the_fraud_rate_is_in_range(world: Simulation) -> None:
    payments = world.payments
    counts = payments["scenario"].value_counts()
    assert counts["amount_outlier"] == SMALL.n_amount_outliers
    low, high = SMALL.card_test_burst_size
    assert SMALL.n_card_testing_bursts * low <= counts["card_testing"] <= SMALL.n_card_testing_bursts * high
    assert payments.loc[payments["scenario"] == "account_takeover", "user_id"].nunique() == SMALL.n_account_takeovers
    assert world.merchants["is_compromised"].sum() == SMALL.n_compromised_merchants
    assert world.customers["ring_id"].nunique() == SMALL.n_rings
    assert 0.005 <= payments["is_fraud"].mean() <= 0.02
    summary = world.summary()
    assert summary.loc[list(FRAUD_SCENARIOS), "payments"].gt(0).all()
    assert summary["payments"].sum() == len(payments)


def test_the_default_world_is_sized_for_training() -> None:
    # Its build time is measured by `make bench --only startup`, not asserted here: the machine is shared.
    default = simulate()
    assert 100_000 <= len(default.payments) <= 300_000
    assert 0.005 <= default.payments["is_fraud"].mean() <= 0.02
    assert len(default.customers[default.customers["role"] == "customer"]) == 5000


def test_the_config_rejects_naive_starts_and_bad_ranges() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        SimulatorConfig(start=datetime(2026, 1, 5))
    with pytest.raises(ValidationError, match="card_test_burst_size"):
        SimulatorConfig(card_test_burst_size=(10, 5))
    with pytest.raises(ValidationError, match="at least 3"):
        SimulatorConfig(ring_size=(2, 5))
    with pytest.raises(ValidationError, match="too little time"):
        SimulatorConfig(days=20, warmup_days=10)
    with pytest.raises(ValidationError):
        SimulatorConfig(n_customers_typo=5)  # type: ignore[call-arg]


def test_asking_for_more_victims_than_the_world_holds_is_an_error() -> None:
    tiny = SimulatorConfig(n_customers=50, n_merchants=20, days=20, warmup_days=5, n_account_takeovers=500)
    with pytest.raises(ValueError, match=r"n_account_takeovers: \d+ of 500"):
        simulate(tiny)

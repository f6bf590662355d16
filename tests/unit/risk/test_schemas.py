"""The public request shapes: what a transaction, an account event and a label must carry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from commerce_ai.risk.schemas import AccountEvent, Label, Transaction

TRANSACTION: dict[str, Any] = {
    "transaction_id": "t-1",
    "user_id": "u1",
    "device_id": "d1",
    "ip": "10.0.0.1",
    "merchant_id": "m1",
    "amount": 12.5,
    "currency": "EUR",
    "timestamp": "2026-01-20T13:00:00+01:00",
    "location": {"lat": 40.4, "lon": -3.7},
}


def test_a_transaction_is_normalised_and_extra_fields_ignored() -> None:
    transaction = Transaction.model_validate({**TRANSACTION, "ip": "2001:DB8:0::1", "note": "ignored"})
    assert transaction.timestamp == datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
    assert transaction.ip == "2001:db8::1"
    assert transaction.payment_method == "card" and transaction.card_id is None
    assert not hasattr(transaction, "note")


@pytest.mark.parametrize(
    "change",
    [
        {"timestamp": "2026-01-20T12:00:00"},  # no timezone
        {"ip": "10.0.0.256"},
        {"amount": 0},
        {"amount": float("inf")},
        {"amount": 10_000_000.01},
        {"currency": "eur"},
        {"user_id": "has space"},
        {"transaction_id": "event#1"},  # '#' is kept for the store's own keys
        {"location": {"lat": 91, "lon": 0}},
        {"location": {"lat": 0, "lon": 181}},
    ],
)
def test_an_invalid_transaction_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Transaction.model_validate({**TRANSACTION, **change})


def test_account_events_are_logins_with_an_optional_id() -> None:
    event = {key: TRANSACTION[key] for key in ("user_id", "device_id", "ip", "timestamp", "location")}
    login = AccountEvent.model_validate({**event, "event_type": "login", "success": False})
    assert login.event_id is None and login.success is False
    assert AccountEvent.model_validate({**event, "event_type": "login", "success": True, "event_id": "e1"}).event_id
    with pytest.raises(ValidationError):
        AccountEvent.model_validate({**event, "event_type": "password_reset", "success": True})
    with pytest.raises(ValidationError):
        AccountEvent.model_validate({**event, "event_type": "login"})  # success is required


def test_labels() -> None:
    label = Label.model_validate({"transaction_id": "t-1", "is_fraud": True})
    assert (label.source, label.reported_at) == ("other", None)
    with pytest.raises(ValidationError):
        Label.model_validate({"transaction_id": "t-1", "is_fraud": True, "source": "gut feeling"})
    with pytest.raises(ValidationError):
        Label.model_validate({"transaction_id": "t-1", "is_fraud": True, "reported_at": "2026-01-20T12:00:00"})


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_timestamp_out_of_range_is_a_validation_error_not_a_crash(stamp: str) -> None:
    # year 1 is refused for its three missing digits before its UTC time would overflow
    with pytest.raises(ValidationError, match=r"out of range|year must have four digits"):
        AccountEvent.model_validate(
            {
                "event_type": "login",
                "user_id": "u1",
                "device_id": "d1",
                "ip": "10.0.0.1",
                "timestamp": stamp,
                "location": {"lat": 0, "lon": 0},
                "success": True,
            }
        )


@pytest.mark.parametrize(
    ("sent", "keyed"),
    [
        ("::ffff:203.0.113.7", "203.0.113.7"),  # IPv4-mapped IPv6 is the IPv4 address
        ("::FFFF:CB00:7107", "203.0.113.7"),
        ("fe80::1%eth0", "fe80::1"),  # a scope id names the sender's own interface: dropped
        ("fe80::1%" + "x" * 80, "fe80::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("203.0.113.7", "203.0.113.7"),
    ],
)
def test_every_spelling_of_an_address_is_one_key(sent: str, keyed: str) -> None:
    transaction = Transaction.model_validate({**TRANSACTION, "ip": sent})
    assert transaction.ip == keyed


@pytest.mark.parametrize("sent", ["fe80::1%" + "x" * 200, "203.0.113.7%eth0", "203.0.113", ""])
def test_what_is_not_one_address_is_refused_naming_the_field(sent: str) -> None:
    with pytest.raises(ValidationError, match="ip"):
        Transaction.model_validate({**TRANSACTION, "ip": sent})


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("amount", {"amount": 1e-200}),
        ("location.lat", {"location": {"lat": 1e-300, "lon": 0}}),
        ("location.lon", {"location": {"lat": 0, "lon": -5e-324}}),
    ],
)
def test_a_number_dynamodb_cannot_hold_is_refused_naming_its_field(field: str, change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=rf"(?s){field}.*magnitude"):
        Transaction.model_validate({**TRANSACTION, **change})


def test_zero_and_ordinary_coordinates_are_kept() -> None:
    assert Transaction.model_validate({**TRANSACTION, "location": {"lat": 0, "lon": 1e-7}}).location.lon == 1e-7


@pytest.mark.parametrize("field", ["transaction_id", "user_id", "device_id", "merchant_id"])
def test_an_id_that_a_path_segment_cannot_carry_is_refused(field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Transaction.model_validate({**TRANSACTION, field: "a/b"})

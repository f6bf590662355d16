"""What arrives at the risk API and queues: transactions to score, account events, confirmed labels.

Field names are the public contract (README). Extra fields are allowed and ignored. Identifiers are
opaque strings; none of them is ever logged.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce_ai.api_fields import IDENTIFIER, RequestTime, StorableFloat

# IDENTIFIER (api_fields): ids are path segments (`GET /risk/transactions/{id}`, the block list's
# `/{kind}/{id}`), and an id with a slash could be stored but never read back or unblocked.
__all__ = ["IDENTIFIER"]
MAX_AMOUNT = 10_000_000.0


class Location(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    lat: StorableFloat = Field(ge=-90, le=90)
    lon: StorableFloat = Field(ge=-180, le=180)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp needs a timezone, e.g. 2026-11-27T10:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # e.g. year 1 with a positive offset: not a time anyone pays at
        raise ValueError("timestamp is out of range") from exc


MAX_IP_TEXT = 100  # the longest IPv6 text is 45 characters; the rest would be a scope id


def normalise_ip(value: str) -> str:
    """One text per address, since the text is the key of the block list and the velocity counters: an
    IPv4-mapped IPv6 address (`::ffff:203.0.113.7`) is its IPv4 address, and a scope id (`fe80::1%eth0`),
    which names an interface on the sender's own host and can be anything, is dropped. Without that, one
    address had endless spellings that each slipped past a block and started its counts from zero."""
    if len(value) > MAX_IP_TEXT:
        raise ValueError(f"ip must be an IPv4 or IPv6 address (at most {MAX_IP_TEXT} characters)")
    try:
        address = ipaddress.ip_address(value)
    except ValueError as exc:
        raise ValueError("ip must be an IPv4 or IPv6 address") from exc
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address.scope_id is not None:
            return str(ipaddress.IPv6Address(int(address)))
    return str(address)


class _Activity(BaseModel):
    """What every event the features count carries: who, on which device, from where, when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str = Field(pattern=IDENTIFIER)
    device_id: str = Field(pattern=IDENTIFIER)
    ip: str
    timestamp: RequestTime
    location: Location

    @field_validator("timestamp")
    @classmethod
    def _utc_timestamp(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("ip")
    @classmethod
    def _valid_ip(cls, value: str) -> str:
        return normalise_ip(value)


class Transaction(_Activity):
    transaction_id: str = Field(pattern=IDENTIFIER)
    merchant_id: str = Field(pattern=IDENTIFIER)
    amount: StorableFloat = Field(gt=0, le=MAX_AMOUNT)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    payment_method: str = Field(default="card", pattern=r"^[a-z_]{1,32}$")
    card_id: str | None = Field(default=None, pattern=IDENTIFIER)

    @field_validator("amount")
    @classmethod
    def _finite(cls, amount: float) -> float:
        if not math.isfinite(amount):
            raise ValueError("amount must be a finite number")
        return amount


ACCOUNT_CHANGES = ("password_change", "email_change", "phone_change", "two_factor_change", "address_change")
EventType = Literal[
    "login", "logout", "password_change", "email_change", "phone_change", "two_factor_change", "address_change"
]


class AccountEvent(_Activity):
    """A login attempt, a logout, or a change to the account's credentials or contact details (what an
    account takeover changes first). `success` is required for a login."""

    event_type: EventType
    success: bool = True
    event_id: str | None = Field(default=None, pattern=IDENTIFIER, description="Makes a resend idempotent.")

    @model_validator(mode="before")
    @classmethod
    def _login_says_whether_it_worked(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("event_type") == "login" and "success" not in data:
            raise ValueError("a login event needs success: true or false")
        return data


class Label(BaseModel):
    """Confirmed outcome of a scored transaction: fraud (e.g. a chargeback) or confirmed genuine."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    transaction_id: str = Field(pattern=IDENTIFIER)
    is_fraud: bool
    source: Literal["chargeback", "manual_review", "customer_report", "other"] = "other"
    reported_at: RequestTime | None = None

    @field_validator("reported_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)

"""One behaviour event: the schema that `POST /events`, `BehaviourEventsQueue`, every consumer and the
archive share. Field names are the public contract (README, "Behaviour events").

Identifiers are opaque strings; user and session ids are personal data and are never logged. Unknown
top-level fields are refused (a misspelt `item_Id` would otherwise be dropped in silence); free-form
data goes in `properties`, which has a size limit.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from commerce_ai.api_fields import IDENTIFIER
from commerce_ai.clock import format_timestamp, four_digit_year

__all__ = ["IDENTIFIER", "BehaviourEvent", "format_timestamp"]  # the ids' rule and the time format, re-exported
MAX_AMOUNT = 10_000_000  # a price or a rating value beyond it is a mistake (the catalogue's MAX_PRICE)
SMALLEST_STORED = 1e-130  # DynamoDB's smallest number magnitude
MAX_PROPERTIES_BYTES = 2048  # serialised JSON; an event is a fact, not a document
MAX_IMPRESSION_ITEMS = 100
MAX_QUERY_CHARS = 512

EventType = Literal[
    "view", "search", "click", "add_to_cart", "remove_from_cart", "purchase", "impression", "not_interested", "rating"
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


class BehaviourEvent(BaseModel):
    """What a user did, once. `event_id` is the idempotency key: a resent event changes nothing twice."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    event_id: str = Field(pattern=IDENTIFIER, description="Idempotency key, unique per event.")
    user_id: str = Field(pattern=IDENTIFIER)
    session_id: str = Field(pattern=IDENTIFIER)
    event_type: EventType
    timestamp: datetime = Field(description="ISO 8601 with a zone, e.g. 2026-12-05T10:00:00Z.")
    item_id: str | None = Field(default=None, pattern=IDENTIFIER, description="Every type but search.")
    query: str | None = Field(default=None, min_length=1, max_length=MAX_QUERY_CHARS, description="For search.")
    item_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=MAX_IMPRESSION_ITEMS, description="For impression: what was shown."
    )
    price: float | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    quantity: int | None = Field(default=None, ge=1, le=10_000)
    value: float | None = Field(default=None, ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="For rating.")
    properties: dict[str, Any] | None = Field(
        default=None, description=f"Free-form, at most {MAX_PROPERTIES_BYTES} bytes as JSON."
    )

    @field_validator("timestamp", mode="before")
    @classmethod
    def _parse_timestamp(cls, value: Any) -> Any:
        # strict mode takes only datetime objects; JSON brings strings, which must carry a zone
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("timestamp must be ISO 8601, e.g. 2026-12-05T10:00:00Z") from exc
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("timestamp needs a timezone, e.g. 2026-12-05T10:00:00Z")
        return value

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        four_digit_year(value)
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("timestamp is out of range") from exc

    @field_validator("price", "value", mode="before")
    @classmethod
    def _json_number(cls, value: Any) -> Any:
        # strict floats refuse "12.50" and true, but take an int; NaN and infinities are not amounts
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if isinstance(value, float) and value != 0 and abs(value) < SMALLEST_STORED:
            # consumers keep it in DynamoDB, whose numbers stop at 1e-130 (commerce_ai.api_fields)
            raise ValueError(f"must be 0 or at least {SMALLEST_STORED:g} in magnitude")
        return value

    @field_validator("item_ids")
    @classmethod
    def _identifiers(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            bad = [i for i, item in enumerate(value) if not isinstance(item, str) or not _is_identifier(item)]
            if bad:
                raise ValueError(f"item_ids[{bad[0]}] is not a valid item id")
        return value

    @field_validator("properties")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, separators=(",", ":"))) > MAX_PROPERTIES_BYTES:
            raise ValueError(f"properties exceed {MAX_PROPERTIES_BYTES} bytes as JSON")
        return value

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> BehaviourEvent:
        kind = self.event_type
        if kind == "search":
            if self.query is None:
                raise ValueError("a search event needs query")
        elif self.item_id is None:
            raise ValueError(f"a {kind} event needs item_id")
        if kind == "impression" and self.item_ids is None:
            raise ValueError("an impression event needs item_ids (what was shown)")
        if kind == "rating" and self.value is None:
            raise ValueError("a rating event needs value")
        if kind != "impression" and self.item_ids is not None:
            raise ValueError("item_ids is only for impression events")
        return self

    def experiment_arm(self) -> tuple[str, str] | None:
        """(experiment, arm) when the event names one in `properties` (an impression served by an arm)."""
        props = self.properties or {}
        name, arm = props.get("experiment"), props.get("arm")
        return (name, arm) if isinstance(name, str) and isinstance(arm, str) else None

    def to_record(self) -> dict[str, Any]:
        """The event as stored and sent on: JSON types only, unset fields left out, time in RFC 3339 UTC."""
        record = self.model_dump(exclude_none=True)
        record["timestamp"] = format_timestamp(self.timestamp)
        return record


def _is_identifier(text: str) -> bool:
    return re.fullmatch(IDENTIFIER, text) is not None

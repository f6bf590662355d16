"""BehaviourEvent edge cases: the contract every producer and consumer of the stream shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from commerce_ai.stream.schema import MAX_PROPERTIES_BYTES, BehaviourEvent, format_timestamp

BASE: dict[str, Any] = {
    "event_id": "e-1",
    "user_id": "u-1",
    "session_id": "s-1",
    "event_type": "view",
    "timestamp": "2026-12-05T10:00:00Z",
    "item_id": "sku-1",
}


def event(**changes: Any) -> dict[str, Any]:
    data = {**BASE, **changes}
    return {k: v for k, v in data.items() if v is not None}


def fields_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}


def test_a_view_is_valid_and_its_record_is_plain_json_in_utc() -> None:
    parsed = BehaviourEvent.model_validate(event(timestamp="2026-12-05T11:00:00+01:00", price=2))
    assert parsed.timestamp == datetime(2026, 12, 5, 10, tzinfo=UTC)
    record = parsed.to_record()
    assert record["timestamp"] == "2026-12-05T10:00:00.000Z"
    assert record["price"] == 2.0 and "query" not in record


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timestamp": "2026-12-05T10:00:00"}, "timestamp"),  # no zone
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": 1796464800}, "timestamp"),  # epoch numbers are not ISO 8601
        ({"timestamp": "0999-12-05T10:00:00Z"}, "timestamp"),  # a three-digit year sorts after 2026 as text
        ({"price": "2.49"}, "price"),  # a number sent as a string
        ({"price": True}, "price"),
        ({"price": -1}, "price"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"event_type": "hover"}, "event_type"),
        ({"item_Id": "x"}, "item_Id"),  # a misspelt field is refused, not dropped
        ({"user_id": "has space"}, "user_id"),
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
    ],
)
def test_bad_fields_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        BehaviourEvent.model_validate(event(**changes))
    assert field in fields_of(exc)


@pytest.mark.parametrize(
    "changes",
    [
        {"event_type": "search", "item_id": None},  # no query
        {"event_type": "click", "item_id": None},
        {"event_type": "impression"},  # no item_ids
        {"event_type": "rating"},  # no value
        {"item_ids": ["a"]},  # only impressions carry item_ids
        {"event_type": "impression", "item_ids": ["ok", "not ok"]},
        {"event_type": "impression", "item_ids": [f"i{n}" for n in range(101)]},
        {"properties": {"blob": "x" * MAX_PROPERTIES_BYTES}},
        {"price": float("nan")},
    ],
)
def test_fields_that_do_not_fit_the_type_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        BehaviourEvent.model_validate(event(**changes))


def test_a_search_needs_no_item_and_a_rating_takes_an_integer_value() -> None:
    search = BehaviourEvent.model_validate(event(event_type="search", item_id=None, query="orange juice"))
    assert search.item_id is None
    rating = BehaviourEvent.model_validate(event(event_type="rating", value=4))
    assert rating.value == 4.0


def test_the_experiment_arm_comes_from_properties() -> None:
    shown = BehaviourEvent.model_validate(
        event(event_type="impression", item_ids=["a", "b"], properties={"experiment": "ranker", "arm": "b"})
    )
    assert shown.experiment_arm() == ("ranker", "b")
    assert BehaviourEvent.model_validate(event(properties={"experiment": "ranker"})).experiment_arm() is None


def test_format_timestamp_is_rfc3339_utc_with_z() -> None:
    assert format_timestamp(datetime(2026, 12, 5, 10, 0, 0, 123456, tzinfo=UTC)) == "2026-12-05T10:00:00.123Z"

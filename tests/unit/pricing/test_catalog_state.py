"""A SKU's catalog state: its compact DynamoDB item form, what a tick's change does to it, what the API
shows of it, and the cursors the catalog and history routes hand out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.errors import InvalidInput
from commerce_ai.pricing.catalog import HISTORY_LENGTH, SkuState, _from_item, _to_item, decode_cursor, encode_cursor
from commerce_ai.pricing.lifecycle import Stage

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def full_state() -> SkuState:
    return SkuState(
        sku="oj-2-1",
        price=2.49,
        cost=1.79,
        stage=Stage.CLEARANCE,
        floor=1.99,
        ceiling=3.49,
        clearance_end=NOW + timedelta(days=10),
        salvage_price=1.5,
        inventory=120.0,
        launch_price=2.29,
        history=[2.29, 2.39, 0.1 + 0.2, 2.49],  # 0.30000000000000004 must survive the text form exactly
        changes=[NOW - timedelta(hours=20), NOW - timedelta(hours=1)],
        last_tick="2026-11-28T11:00:00Z",
        competitor_index=2.55,
        competitor_index_at=NOW - timedelta(days=2),
        updated_at="2026-11-28T11:00:01Z",
    )


def test_the_item_packs_each_writers_fields_into_one_attribute() -> None:
    item = _to_item(full_state())
    assert set(item) == {"sku", "price", "settings", "ticked", "competitor"}, "few attributes: the tick scans them all"
    assert item["price"] == {"N": "2.49"}, "a number: the tick's write condition compares it"
    assert json.loads(item["settings"]["S"]) == {
        "cost": 1.79,
        "stage": "clearance",
        "floor": 1.99,
        "ceiling": 3.49,
        "clearance_end": "2026-12-08T12:00:00Z",
        "salvage_price": 1.5,
        "inventory": 120.0,
        "launch_price": 2.29,
    }
    changes = f"{int((NOW - timedelta(hours=20)).timestamp())} {int(NOW.timestamp()) - 3600}"
    assert item["ticked"] == {
        "S": f"2026-11-28T11:00:00Z,2026-11-28T11:00:01Z,2.29 2.39 0.30000000000000004 2.49,{changes}"
    }
    assert item["competitor"] == {"S": "2.55@2026-11-26T12:00:00Z"}
    assert all(set(value) <= {"S", "N"} for value in item.values()), "no lists or maps"


def test_a_state_round_trips_through_its_item() -> None:
    state = full_state()
    assert _from_item(_to_item(state)) == state


def test_a_minimal_item_leaves_out_what_is_unset() -> None:
    state = SkuState(sku="s-1", price=2.0, cost=1.0)
    item = _to_item(state)
    assert set(item) == {"sku", "price", "settings"}  # no empty tick state, no competitor index
    assert _from_item(item) == state


@pytest.mark.parametrize("last_tick", [None, "2026-11-28T11:45:00Z", "2026-11-28T12:00:00Z", "2026-11-28T12:15:00Z"])
def test_the_ticked_text_orders_as_its_last_tick_does(last_tick: str | None) -> None:
    """The tick's write condition is `ticked < :tick`: it must hold exactly when the last tick is older."""
    tick = "2026-11-28T12:00:00Z"
    state = SkuState(sku="s-1", price=2.0, cost=1.0, history=[9.99, 10.0], changes=[NOW], last_tick=last_tick)
    ticked = _to_item(state.model_copy(update={"updated_at": "2026-11-28T12:14:59+00:00"}))["ticked"]["S"]
    assert (ticked < tick) is (last_tick is None or last_tick < tick)


def test_an_item_in_the_earlier_flat_form_is_still_read() -> None:
    state = full_state()
    flat = {
        "sku": {"S": "oj-2-1"},
        "price": {"N": "2.49"},
        "cost": {"N": "1.79"},
        "stage": {"S": "clearance"},
        "floor": {"N": "1.99"},
        "ceiling": {"N": "3.49"},
        "clearance_end": {"S": "2026-12-08T12:00:00Z"},
        "salvage_price": {"N": "1.5"},
        "inventory": {"N": "120.0"},
        "launch_price": {"N": "2.29"},
        "history": {"S": "2.29 2.39 0.30000000000000004 2.49"},
        "changes": {"S": f"{int((NOW - timedelta(hours=20)).timestamp())} {int(NOW.timestamp()) - 3600}"},
        "last_tick": {"S": "2026-11-28T11:00:00Z"},
        "competitor_index": {"N": "2.55"},
        "competitor_index_at": {"S": "2026-11-26T12:00:00Z"},
        "updated_at": {"S": "2026-11-28T11:00:01Z"},
    }
    assert _from_item(flat) == state


@given(
    history=st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), max_size=HISTORY_LENGTH),
    seconds=st.lists(st.integers(min_value=0, max_value=2_000_000_000), max_size=10),
)
def test_any_history_and_whole_second_changes_round_trip(history: list[float], seconds: list[int]) -> None:
    changes = [datetime.fromtimestamp(s, UTC) for s in seconds]
    state = SkuState(sku="s-1", price=2.0, cost=1.0, history=history, changes=changes)
    back = _from_item(_to_item(state))
    assert back.history == history and back.changes == changes


def test_change_times_are_stored_to_the_second() -> None:
    at = NOW + timedelta(microseconds=900_000)
    back = _from_item(_to_item(SkuState(sku="s-1", price=2.0, cost=1.0, changes=[at])))
    assert back.changes == [NOW]


def test_after_change_keeps_the_last_26_prices_and_only_the_last_days_changes() -> None:
    history = [float(p) for p in range(1, 31)]  # 30 prices, oldest first
    changes = [NOW - timedelta(hours=h) for h in (30, 24, 23, 2)]
    state = SkuState(sku="s-1", price=30.0, cost=1.0, history=history, changes=changes, last_tick="t0")

    changed = state.after_change(31.5, NOW, "2026-11-28T12:00:00Z")

    assert changed.price == 31.5 and changed.last_tick == "2026-11-28T12:00:00Z"
    assert len(changed.history) == HISTORY_LENGTH == 26
    assert changed.history == [*history[-25:], 31.5]
    assert changed.changes == [NOW - timedelta(hours=23), NOW - timedelta(hours=2), NOW]  # exactly 24 h ago is out
    assert state.price == 30.0 and state.history == history, "the original state is not modified"
    assert changed.cost == state.cost and changed.sku == state.sku


def test_after_change_on_a_new_sku_starts_its_history() -> None:
    changed = SkuState(sku="s-1", price=2.0, cost=1.0).after_change(2.2, NOW, "t1")
    assert (changed.history, changed.changes) == ([2.2], [NOW])


def test_public_shows_settings_and_the_last_eight_prices_not_the_raw_tick_fields() -> None:
    state = full_state().model_copy(update={"history": [float(p) for p in range(1, 13)]})
    shown = state.public()
    assert shown["recent_prices"] == [5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]
    assert "history" not in shown and "changes" not in shown
    assert shown["stage"] == "clearance" and shown["clearance_end"] == "2026-12-08T12:00:00Z"
    assert shown["competitor_index"] == 2.55 and shown["last_tick"] == "2026-11-28T11:00:00Z"
    json.dumps(shown)  # plain JSON


def test_public_leaves_out_unset_fields() -> None:
    shown = SkuState(sku="s-1", price=2.0, cost=1.0).public()
    assert shown == {"sku": "s-1", "price": 2.0, "cost": 1.0, "stage": "mature", "updated_at": "", "recent_prices": []}


# ------------------------------------------------------------------------------------------- cursors


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_a_cursor_this_api_returned_decodes_to_its_key() -> None:
    key = {"sku": {"S": "oj-2-1"}}
    assert decode_cursor(encode_cursor(key)) == key
    history_key = {"sku": {"S": "oj-2-1"}, "item": {"S": "decision#2026-11-28T12:00:00Z"}}
    assert decode_cursor(encode_cursor(history_key), {"sku", "item"}) == history_key
    assert decode_cursor(None) is None and decode_cursor("") is None
    assert encode_cursor(None) is None and encode_cursor({}) is None


@pytest.mark.parametrize(
    ("cursor", "attributes"),
    [
        ("abc", None),  # not base64 of JSON
        ("!!!!", None),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), None),  # not UTF-8
        (cursor_of([1, 2]), None),  # JSON, not an object
        (cursor_of({"sku": "oj-2-1"}), None),  # not a typed DynamoDB value
        (cursor_of({"sku": {"N": "1"}}), None),  # a number where the key is a string
        (cursor_of({"sku": {"S": 1}}), None),
        (cursor_of({"sku": {"S": "a", "N": "1"}}), None),
        (cursor_of({"sku": {"S": "a"}, "extra": {"S": "b"}}), None),  # another table's key
        (cursor_of({"sku": {"S": "a"}}), {"sku", "item"}),  # the catalog's cursor on the history route
        (cursor_of({"sku": {"S": "a"}, "item": {"S": "decision#t"}}), None),  # and the other way round
        (cursor_of({}), None),
    ],
)
def test_foreign_or_garbage_cursors_are_invalid_input(cursor: str, attributes: set[str] | None) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(cursor, attributes)


def test_a_deeply_nested_cursor_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        decode_cursor(base64.urlsafe_b64encode(b"[" * 1000).decode())

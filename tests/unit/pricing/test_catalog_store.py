"""The catalog and decision-log adapters over in-memory DynamoDB (tests/unit/fakes.py), which evaluates
their condition, key-condition and update expressions rather than trusting them."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai import dynamodb_batches
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.pricing import catalog, decisions
from commerce_ai.pricing.catalog import SkuSettings, SkuState, shard_of
from commerce_ai.pricing.decisions import DecisionRecord
from commerce_ai.pricing.lifecycle import Stage
from tests.support.pricing import store_raw
from tests.unit.fakes import client_error
from tests.unit.pricing.conftest import CATALOG_TABLE, PRICING_TABLE, PricingTables

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TICK = "2026-11-28T12:00:00Z"
NEXT_TICK = "2026-11-28T12:15:00Z"


def sku(name: str = "oj-2-1", price: float = 2.5, cost: float = 1.5, **extra: object) -> SkuState:
    return SkuState.model_validate({"sku": name, "price": price, "cost": cost, "history": [price], **extra})


# ------------------------------------------------------------------------------------ apply a change


def test_apply_writes_the_changed_state(tables: PricingTables) -> None:
    state = tables.catalog.put(sku(changes=[NOW - timedelta(days=2)]))
    assert tables.catalog.apply(state, 2.75, NOW, TICK) is True
    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.history, stored.changes, stored.last_tick) == (2.75, [2.5, 2.75], [NOW], TICK)
    assert stored.cost == 1.5 and stored.updated_at


def test_apply_refuses_a_second_application_of_the_same_tick(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    assert tables.catalog.apply(state, 2.75, NOW, TICK)
    # The same change again from the state read before it (a duplicate run of the tick): it is already in,
    # so it counts as applied, and nothing is written twice.
    assert tables.catalog.apply(state, 2.75, NOW, TICK) is True
    assert tables.catalog.get("oj-2-1").history == [2.5, 2.75]
    # Another price from that stale state is refused: the SKU moved on since it was read.
    assert tables.catalog.apply(state, 2.6, NOW, TICK) is False
    # Even from the state as it is now (price matches), the same tick is not applied twice...
    current = tables.catalog.get("oj-2-1")
    assert tables.catalog.apply(current, 3.0, NOW, TICK) is False
    assert tables.catalog.apply(current, 3.0, NOW, "2026-11-28T11:45:00Z") is False  # ...nor an older tick
    assert tables.catalog.get("oj-2-1").price == 2.75
    # while the next tick moves on from it.
    assert tables.catalog.apply(current, 3.0, NOW + timedelta(minutes=15), NEXT_TICK)
    assert tables.catalog.get("oj-2-1").history == [2.5, 2.75, 3.0]


def test_apply_refuses_when_an_admin_changed_the_price_meanwhile(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    tables.catalog.put(sku(price=2.99))  # the admin's new price
    assert tables.catalog.apply(state, 2.75, NOW, TICK) is False
    assert tables.catalog.get("oj-2-1").price == 2.99


def test_a_change_is_applied_over_what_another_writer_put_in_its_shard(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()  # the tick's read; then a competitor index lands on the same shard
    assert tables.catalog.set_competitor_index("oj-2-1", 2.61, NOW)
    tables.ddb.log.clear()

    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": True}

    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.competitor_index) == (2.75, 2.61), "neither write lost the other's"
    # the write from the tick's read was refused, the shard read again and the change written over it
    assert tables.operations(CATALOG_TABLE) == ["PutItem", "GetItem", "PutItem", "GetItem"]


def test_an_undisturbed_shard_costs_one_write_from_the_ticks_read(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    tables.ddb.log.clear()
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": True}
    assert tables.operations(CATALOG_TABLE) == ["PutItem"]


def test_a_change_from_a_read_older_than_an_admins_price_is_refused(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    tables.catalog.configure("oj-2-1", SkuSettings(price=2.99))
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": False}
    assert tables.catalog.get("oj-2-1").price == 2.99


def test_a_shard_that_keeps_changing_is_given_up_on(tables: PricingTables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog.time, "sleep", lambda _: None)
    state = tables.catalog.put(sku())
    put_item = tables.ddb.put_item

    def someone_else_first(**request: Any) -> Any:
        stored = tables.ddb.tables[CATALOG_TABLE][(shard_of("oj-2-1"),)]
        stored["revision"] = {"N": str(int(stored["revision"]["N"]) + 1)}  # another writer got there first
        return put_item(**request)

    monkeypatch.setattr(tables.ddb, "put_item", someone_else_first)
    with pytest.raises(RuntimeError, match="kept changing"):
        tables.catalog.apply(state, 2.75, NOW, TICK)
    monkeypatch.setattr(tables.ddb, "put_item", put_item)
    assert tables.catalog.get("oj-2-1").price == 2.5


def test_a_shard_that_cannot_be_written_does_not_stop_the_others(
    tables: PricingTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog.time, "sleep", lambda _: None)
    blocked, other = sku("oj-2-1"), sku("oj-5-1")
    assert shard_of(blocked.sku) != shard_of(other.sku)
    states = [tables.catalog.put(blocked), tables.catalog.put(other)]
    put_item = tables.ddb.put_item

    def blocked_shard_too_big(**request: Any) -> Any:
        if request["Item"]["shard"]["S"] == shard_of(blocked.sku):
            raise RuntimeError("catalog shard would exceed its size")
        return put_item(**request)

    monkeypatch.setattr(tables.ddb, "put_item", blocked_shard_too_big)
    result = tables.catalog.apply_all([(state, 2.75) for state in states], NOW, TICK)
    assert result.applied == {other.sku: True} and list(result.unwritten) == [blocked.sku]
    assert tables.catalog.get(other.sku).price == 2.75 and tables.catalog.get(blocked.sku).price == 2.5


def test_other_write_errors_propagate(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    tables.ddb.fail_with = client_error("ProvisionedThroughputExceededException", "PutItem")
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        tables.catalog.apply(state, 2.75, NOW, TICK)


# --------------------------------------------------------------------- competitor index and seeding


def test_the_competitor_index_is_kept_on_an_existing_sku_only(tables: PricingTables) -> None:
    tables.catalog.put(sku())
    assert tables.catalog.set_competitor_index("oj-2-1", 2.61, NOW + timedelta(hours=1)) is True
    stored = tables.catalog.get("oj-2-1")
    assert (stored.competitor_index, stored.competitor_index_at) == (2.61, NOW + timedelta(hours=1))
    assert stored.price == 2.5, "the rest of the item is untouched"
    assert tables.catalog.set_competitor_index("never-listed", 2.61, NOW) is False
    with pytest.raises(NotFound):
        tables.catalog.get("never-listed")  # the update did not create a half item


def test_seeding_adds_only_missing_skus(tables: PricingTables) -> None:
    tables.catalog.put(sku("a", price=3.33))  # an admin's price
    assert tables.catalog.seed([sku("a"), sku("b"), sku("c")]) == 2
    assert tables.catalog.get("a").price == 3.33
    assert tables.catalog.seed([sku("a"), sku("b")]) == 0
    assert tables.catalog.seed([]) == 0


# ---------------------------------------------------------------------------------------- reading


def test_reading_everything_follows_every_segment_and_page_and_reports_broken_entries(
    tables: PricingTables,
) -> None:
    names = [f"s-{i:03d}" for i in range(40)]
    tables.catalog.seed([sku(name) for name in names])
    store_raw(tables.catalog, "broken", {"price": "n/a"})
    tables.ddb.put_item(
        TableName=CATALOG_TABLE, Item={"shard": {"S": "9999"}, "revision": {"N": "1"}, "skus": {"B": b"garbled"}}
    )
    tables.ddb.log.clear()

    read = tables.catalog.read(segments=4)
    found = list(read.states())

    states = [s for s in found if isinstance(s, SkuState)]
    assert sorted(s.sku for s in states) == names
    assert sorted(s for s in found if isinstance(s, str)) == ["#shard-9999", "broken"]
    assert tables.operations(CATALOG_TABLE).count("Scan") >= 4, "each segment was read"


def test_reading_given_skus_gets_their_shards_in_batches_of_100_and_skips_unknown(tables: PricingTables) -> None:
    names = [f"s-{i:03d}" for i in range(150)]
    assert len({shard_of(name) for name in names}) > 100, "two batches of shards"
    tables.catalog.seed([sku(name) for name in names])
    tables.ddb.throttle_batches = 2  # DynamoDB leaves part of a batch unprocessed under load
    tables.ddb.log.clear()

    found = list(tables.catalog.read([*names, "unknown-1", "s-000", "s-001"]).states())

    assert sorted(s.sku for s in found if isinstance(s, SkuState)) == names, "each once"
    assert tables.operations(CATALOG_TABLE).count("BatchGetItem") == 2 + 2  # two batches, two retries


def test_pages_walk_the_readable_catalog_once_whatever_the_page_size(tables: PricingTables) -> None:
    names = sorted(f"s-{i:03d}" for i in range(60))
    tables.catalog.seed([sku(name) for name in names])
    store_raw(tables.catalog, "s-unreadable", {"price": "n/a"})  # left out of pages; a tick reports it
    for limit in (1, 7, 60, 200):
        seen: list[str] = []
        cursor, pages = None, 0
        while True:
            page, cursor = tables.catalog.page(limit, cursor)
            assert len(page) <= limit
            seen.extend(s.sku for s in page)
            pages += 1
            if cursor is None:
                break
        assert sorted(seen) == names and len(seen) == len(names), f"limit {limit}: each SKU once"
        assert pages <= len(names) // limit + 2


def test_pages_refuse_bad_limits_and_cursors(tables: PricingTables) -> None:
    tables.catalog.seed([sku("a"), sku("b")])
    for limit in (0, catalog.MAX_PAGE + 1):
        with pytest.raises(InvalidInput, match="limit"):
            tables.catalog.page(limit, None)
    with pytest.raises(InvalidInput, match="cursor"):
        tables.catalog.page(1, "garbage")
    assert tables.catalog.page(5, None)[1] is None, "a short catalog fits one page"


def test_get_raises_not_found(tables: PricingTables) -> None:
    with pytest.raises(NotFound):
        tables.catalog.get("nope")


# ---------------------------------------------------------------------------------- decision log


def record(sku: str, tick: str, outcome: str = "kept", **extra: object) -> DecisionRecord:
    return DecisionRecord.model_validate({"sku": sku, "tick": tick, "outcome": outcome, "reason": outcome, **extra})


def ticks(count: int) -> list[str]:
    return [f"2026-11-28T{h:02d}:{m:02d}:00Z" for h in range(24) for m in (0, 15, 30, 45)][:count]


def test_history_is_newest_first_paged_and_only_decisions(tables: PricingTables) -> None:
    names = ticks(7)
    tables.log.write([record("a", t) for t in names] + [record("b", t) for t in names[:2]], NOW)
    # the SKU's competitor items share its partition in the pricing table
    tables.ddb.put_item(TableName=PRICING_TABLE, Item={"sku": {"S": "a"}, "item": {"S": "competitor#megamart"}})
    tables.ddb.put_item(TableName=PRICING_TABLE, Item={"sku": {"S": "a"}, "item": {"S": "history#m#2026"}})

    seen: list[str] = []
    cursor, pages = None, 0
    while True:
        page, cursor = tables.log.history("a", 3, cursor)
        seen.extend(r.tick for r in page)
        pages += 1
        if cursor is None:
            break
    assert seen == list(reversed(names)) and pages == 3
    assert tables.log.latest("a") == record("a", names[-1])
    assert tables.log.latest("nobody") is None


def test_history_refuses_bad_limits_and_cursors(tables: PricingTables) -> None:
    tables.log.write([record("a", t) for t in ticks(3)] + [record("b", t) for t in ticks(3)], NOW)
    _, cursor_of_b = tables.log.history("b", 1, None)
    assert cursor_of_b is not None
    with pytest.raises(InvalidInput, match="another SKU"):
        tables.log.history("a", 1, cursor_of_b)
    with pytest.raises(InvalidInput, match="cursor"):
        tables.log.history("a", 1, "garbage")
    for limit in (0, decisions.MAX_HISTORY_PAGE + 1):
        with pytest.raises(InvalidInput, match="limit"):
            tables.log.history("a", limit, None)


def test_writing_again_overwrites_a_ticks_record(tables: PricingTables) -> None:
    tables.log.write([record("a", TICK, "applied", applied=2.2)], NOW)
    tables.log.write([record("a", TICK, "superseded")], NOW)
    history, _ = tables.log.history("a", 10, None)
    assert [r.outcome for r in history] == ["superseded"]


def test_write_batches_by_25_and_retries_unprocessed_items(
    tables: PricingTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_batches.time, "sleep", lambda _: None)
    tables.ddb.throttle_batches = 3
    many = [record(f"s-{i:03d}", TICK) for i in range(60)]
    tables.log.write(many, NOW)
    assert len(tables.ddb.tables[PRICING_TABLE]) == 60
    assert tables.operations(PRICING_TABLE).count("BatchWriteItem") == 3 + 3  # three batches, three retries
    tables.log.write([], NOW)  # nothing to write: no call


def test_write_gives_up_when_items_stay_unprocessed(tables: PricingTables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamodb_batches.time, "sleep", lambda _: None)
    tables.ddb.throttle_batches = 1000
    with pytest.raises(RuntimeError, match="stayed unprocessed"):
        tables.log.write([record("a", TICK), record("b", TICK)], NOW)


# ------------------------------------------------------------ the in-memory DynamoDB these tests trust


def test_the_fake_refuses_what_dynamodb_refuses(tables: PricingTables) -> None:
    ddb, key = tables.ddb, {"sku": {"S": "a"}, "item": {"S": "x"}}
    ddb.put_item(TableName=PRICING_TABLE, Item=key)
    refused = [
        # "item" is a reserved word: the code must alias it, as DecisionLog does with #item
        lambda: ddb.query(
            TableName=PRICING_TABLE,
            KeyConditionExpression="sku = :s AND begins_with(item, :p)",
            ExpressionAttributeValues={":s": {"S": "a"}, ":p": {"S": "decision#"}},
        ),
        # a placeholder that the expression does not use
        lambda: ddb.update_item(
            TableName=PRICING_TABLE,
            Key=key,
            UpdateExpression="SET price = :p",
            ExpressionAttributeValues={":p": {"N": "1"}, ":unused": {"N": "2"}},
        ),
        # one that it uses but does not define
        lambda: ddb.update_item(TableName=PRICING_TABLE, Key=key, UpdateExpression="SET price = :p"),
        # the key cannot be SET
        lambda: ddb.update_item(
            TableName=PRICING_TABLE,
            Key=key,
            UpdateExpression="SET sku = :s",
            ExpressionAttributeValues={":s": key["sku"]},
        ),
        # a query must name the partition with =
        lambda: ddb.query(
            TableName=PRICING_TABLE,
            KeyConditionExpression="begins_with(#i, :p)",
            ExpressionAttributeNames={"#i": "item"},
            ExpressionAttributeValues={":p": {"S": "decision#"}},
        ),
        lambda: ddb.batch_get_item(RequestItems={PRICING_TABLE: {"Keys": [key, key]}}),  # duplicate keys
        lambda: ddb.batch_get_item(
            RequestItems={CATALOG_TABLE: {"Keys": [{"shard": {"S": str(i)}} for i in range(101)]}}
        ),
        lambda: ddb.batch_write_item(
            RequestItems={
                PRICING_TABLE: [{"PutRequest": {"Item": {"sku": {"S": str(i)}, "item": {"S": "x"}}}} for i in range(26)]
            }
        ),
        lambda: ddb.scan(TableName=CATALOG_TABLE, Segment=4, TotalSegments=4),
    ]
    for call in refused:
        with pytest.raises(Exception, match="ValidationException"):
            call()


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        ("price = :two", False),  # 2.5 is not 2
        ("price > :two AND cost < :two", True),
        ("price < :two OR attribute_exists(cost)", True),
        ("NOT (price > :two)", False),
        ("attribute_not_exists(last_tick) OR last_tick < :tick", True),
        ("missing_attribute < :two", False),  # a missing attribute compares false
        ("price = :text", False),  # another type compares false
        ("begins_with(sku, :prefix)", True),
    ],
)
def test_the_fake_evaluates_conditions(tables: PricingTables, condition: str, holds: bool) -> None:
    item = {"sku": {"S": "oj-2-1"}, "item": {"S": "x"}, "price": {"N": "2.5"}, "cost": {"N": "1.5"}}
    tables.ddb.put_item(TableName=PRICING_TABLE, Item=item)
    values = {":two": {"N": "2"}, ":tick": {"S": TICK}, ":text": {"S": "2.5"}, ":prefix": {"S": "oj-"}}
    used = {name: value for name, value in values.items() if name in condition}
    try:
        tables.ddb.update_item(
            TableName=PRICING_TABLE,
            Key={"sku": {"S": "oj-2-1"}, "item": {"S": "x"}},
            UpdateExpression="SET flag = :flag",
            ConditionExpression=condition,
            ExpressionAttributeValues={**used, ":flag": {"S": "set"}},
        )
        applied = True
    except Exception as exc:
        assert "ConditionalCheckFailed" in str(exc)
        applied = False
    assert applied is holds
    assert ("flag" in tables.ddb.tables[PRICING_TABLE][("oj-2-1", "x")]) is holds


# ------------------------------------------------------------------------------- review findings


def test_a_write_whose_response_was_lost_counts_as_applied(tables: PricingTables) -> None:
    """The SDK resends a put whose response timed out; the resend fails the revision condition because the
    first one landed. Re-reading finds this tick's own change: applied, not superseded."""
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    put_item = tables.ddb.put_item
    calls: list[int] = []

    def lands_then_resent(**request: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            put_item(**request)  # lands...
        return put_item(**request)  # ...and the resend is refused by its condition

    tables.ddb.put_item = lands_then_resent  # type: ignore[method-assign]
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": True}
    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.history) == (2.75, [2.5, 2.75]), "applied once"


def test_an_admin_setting_changed_while_the_tick_ran_supersedes_its_change(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    tables.catalog.configure("oj-2-1", SkuSettings(floor=2.6))  # the tick decided without this floor
    assert tables.catalog.apply_all([(state, 2.25)], NOW, TICK, read).applied == {"oj-2-1": False}
    assert tables.catalog.get("oj-2-1").price == 2.5


def test_a_broken_shard_is_left_out_of_pages(tables: PricingTables) -> None:
    names = sorted(f"s-{i:03d}" for i in range(30))
    tables.catalog.seed([sku(name) for name in names])
    broken_key = shard_of(names[0])
    stored = tables.ddb.tables[CATALOG_TABLE][(broken_key,)]
    stored["skus"] = {"B": b"garbled"}
    lost = {n for n in names if shard_of(n) == broken_key}
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = tables.catalog.page(4, cursor)
        seen.extend(s.sku for s in page)
        if cursor is None:
            break
    assert sorted(seen) == sorted(set(names) - lost)


@pytest.mark.parametrize("shard", ["", "x" * 3000, "99999", "1024", "abcd", "\u0660\u0660\u0661\u0662"])
def test_a_cursor_naming_no_shard_is_invalid_input(tables: PricingTables, shard: str) -> None:
    cursor = catalog.encode_cursor({"shard": {"S": shard}, "after": {"S": "a"}})
    with pytest.raises(InvalidInput, match="cursor"):
        tables.catalog.page(5, cursor)


def test_a_shard_that_would_outgrow_an_item_is_refused(tables: PricingTables, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "MAX_SHARD_BYTES", 50)
    with pytest.raises(RuntimeError, match="raise SHARDS"):
        tables.catalog.put(sku())


def test_settings_no_price_could_satisfy_are_refused_and_nothing_is_written(tables: PricingTables) -> None:
    tables.catalog.configure("s", SkuSettings(price=3.0, cost=2.0))  # margin floor 2.23 at 10%
    for settings, problem in (
        (SkuSettings(ceiling=2.0), "below the margin floor"),
        (SkuSettings(price=2.1), "price 2.10 is below the margin floor"),
        (SkuSettings(price=5.0, ceiling=4.0), "above the ceiling"),
        (SkuSettings(price=5.0, cost=6.0), "below the margin floor"),
        (SkuSettings(stage=Stage.CLEARANCE, price=5.0, salvage_price=10.0, inventory=5, clearance_end=NOW), "salvage"),
    ):
        with pytest.raises(InvalidInput, match=problem):
            tables.catalog.configure("s", settings)
    assert (tables.catalog.get("s").price, tables.catalog.get("s").ceiling) == (3.0, None)


def test_a_new_cost_or_floor_is_accepted_and_left_to_the_next_tick_to_correct(tables: PricingTables) -> None:
    tables.catalog.configure("s", SkuSettings(price=3.0, cost=2.0))
    assert tables.catalog.configure("s", SkuSettings(cost=2.9)).cost == 2.9  # the supplier raised it
    assert tables.catalog.configure("s", SkuSettings(floor=3.5)).floor == 3.5


def test_an_optional_setting_sent_as_null_is_removed_and_a_required_one_refused(tables: PricingTables) -> None:
    tables.catalog.configure("s", SkuSettings(price=3.0, cost=2.0, floor=2.5, ceiling=4.0))
    cleared = tables.catalog.configure("s", SkuSettings.model_validate({"floor": None, "ceiling": None}))
    assert (cleared.floor, cleared.ceiling) == (None, None)
    for name in ("price", "cost", "stage"):
        with pytest.raises(InvalidInput, match="cannot be removed"):
            tables.catalog.configure("s", SkuSettings.model_validate({name: None}))


@pytest.mark.parametrize("body", [{"price": "3"}, {"price": True}, {"price": math.nan}, {"ceiling": math.inf}])
def test_settings_are_json_numbers_and_finite(body: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SkuSettings.model_validate(body)

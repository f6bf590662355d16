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
from commerce_ai.pricing.catalog import SkuSettings, SkuState
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


def record_of(tick: str, reason: str = "changed 2.50 -> 2.75 (+10.0%); expected weekly profit 73.21 -> 80.14") -> dict:
    return {
        "tick": tick,
        "outcome": "applied",
        "reason": reason,
        "rules": ["max_step"],
        "old_price": 2.5,
        "proposed": 2.8412,
        "applied": 2.75,
        "expected_weekly_units": 123.457,
        "model_version": "20261206T062000Z-0123abcd",
        "policy_version": "myopic-v1",
    }


def test_a_changes_record_rides_on_its_item_which_stays_within_one_write_unit() -> None:
    """Every change keeps its record newest in `recent_changes`; the oldest go while the item would pass
    1 KB (DynamoDB bills a write by 1 KB of the whole item), so a change stays one write unit."""
    state = sku(history=[2.5 + n / 100 for n in range(catalog.HISTORY_LENGTH)], competitor_index=2.6, revision=9)
    state = state.model_copy(update={"competitor_index_at": NOW, "updated_at": "2026-11-28T12:00:01.123Z"})
    for n in range(12):
        state = state.after_change(2.75, NOW + timedelta(minutes=15 * n), f"t{n:02d}", record_of(f"t{n:02d}"))
        assert state.recent_changes[0]["tick"] == f"t{n:02d}", "the newest is always kept"
        assert catalog.item_size(catalog.to_item(state)) <= catalog.ITEM_BUDGET
    short = sku().after_change(2.75, NOW, "t0", {"tick": "t0", "outcome": "applied", "reason": "r"})
    for n in range(1, 12):
        short = short.after_change(2.75, NOW, f"t{n}", {"tick": f"t{n}", "outcome": "applied", "reason": "r"})
    assert len(short.recent_changes) == catalog.MAX_RECENT_CHANGES, "small records: a bounded ring"
    huge = record_of("t99", reason="x" * 2000)
    assert state.after_change(2.8, NOW, "t99", huge).recent_changes == [huge], "one too big for 1 KB still kept"


def test_item_size_counts_as_dynamodb_bills() -> None:
    item = {"sku": {"S": "oj-2-1"}, "price": {"N": "2.75"}, "pinned": {"BOOL": True}}
    assert catalog.item_size(item) == (3 + 6) + (5 + 3) + (6 + 1)


def test_a_chunks_read_can_be_eventually_consistent(tables: PricingTables) -> None:
    tables.catalog.put(sku())
    batch_get_item = tables.ddb.batch_get_item
    sent: list[bool] = []

    def seen(**request: Any) -> Any:
        sent.append(request["RequestItems"][CATALOG_TABLE]["ConsistentRead"])
        return batch_get_item(**request)

    tables.ddb.batch_get_item = seen  # type: ignore[method-assign]
    for consistent in (True, False):
        assert [s.sku for s in tables.catalog.read(["oj-2-1"], consistent=consistent).states()] == ["oj-2-1"]
    assert sent == [True, False]


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


def test_a_competitor_index_landing_after_the_ticks_read_neither_blocks_nor_is_lost(tables: PricingTables) -> None:
    tables.catalog.put(sku())
    read = tables.catalog.read()  # the tick's read; then a competitor index lands on the same SKU
    (state,) = read.states()
    assert isinstance(state, SkuState)
    assert tables.catalog.set_competitor_index("oj-2-1", 2.61, NOW)
    tables.ddb.log.clear()

    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": True}

    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.competitor_index) == (2.75, 2.61), "neither write lost the other's"
    # the index leaves the revision alone and the tick updates only its own attributes: one write
    assert tables.operations(CATALOG_TABLE) == ["UpdateItem", "GetItem"]


def test_a_ticks_change_is_one_update_of_the_attributes_the_tick_owns(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    tables.ddb.log.clear()
    update_item = tables.ddb.update_item
    requests: list[dict[str, Any]] = []

    def seen(**request: Any) -> Any:
        requests.append(request)
        return update_item(**request)

    tables.ddb.update_item = seen  # type: ignore[method-assign]
    record = {"tick": TICK, "outcome": "applied", "reason": "cut", "rules": ["max_step"], "applied": 2.75}
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, None, {"oj-2-1": record}).applied == {"oj-2-1": True}
    assert tables.operations(CATALOG_TABLE) == ["UpdateItem"]
    (request,) = requests
    written = set(request["ExpressionAttributeNames"].values()) - {"sku", "revision"}
    assert written == set(catalog.TICK_OWNED)
    assert tables.catalog.get("oj-2-1").recent_changes == [record], "the change's record rides on its update"


def test_a_change_from_a_read_older_than_an_admins_price_is_refused(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    tables.catalog.configure("oj-2-1", SkuSettings(price=2.99))
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": False}
    assert tables.catalog.get("oj-2-1").price == 2.99


def test_an_admin_change_is_decided_again_when_a_tick_got_there_first(
    tables: PricingTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tables.catalog.put(sku())
    get_item = tables.ddb.get_item
    raced = []

    def tick_between_read_and_write(**request: Any) -> Any:
        read = get_item(**request)
        if not raced:  # the tick's change lands after the admin's read
            raced.append(tables.catalog.apply(state, 2.75, NOW, TICK))
        return read

    monkeypatch.setattr(tables.ddb, "get_item", tick_between_read_and_write)
    configured, old_price = tables.catalog.configure_with_change("oj-2-1", SkuSettings(price=2.99), NOW)
    assert raced == [True]
    assert (configured.price, old_price) == (2.99, 2.75), "decided again from the tick's price"
    monkeypatch.setattr(tables.ddb, "get_item", get_item)
    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.history, stored.last_tick) == (2.99, [2.5, 2.75, 2.99], TICK)


def test_an_admin_change_under_ticks_that_keep_changing_the_sku_is_given_up_on(
    tables: PricingTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables.catalog.put(sku())
    get_item = tables.ddb.get_item

    def bumped_after_read(**request: Any) -> Any:
        read = get_item(**request)
        stored = tables.ddb.tables[CATALOG_TABLE][("oj-2-1",)]
        stored["revision"] = {"N": str(int(stored["revision"]["N"]) + 1)}  # another writer got there first
        return read

    monkeypatch.setattr(tables.ddb, "get_item", bumped_after_read)
    with pytest.raises(RuntimeError, match="kept changing"):
        tables.catalog.configure("oj-2-1", SkuSettings(price=2.99))
    monkeypatch.setattr(tables.ddb, "get_item", get_item)
    assert tables.catalog.get("oj-2-1").price == 2.5


def test_a_sku_that_cannot_be_written_does_not_stop_the_others(
    tables: PricingTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked, other = sku("oj-2-1"), sku("oj-5-1")
    states = [tables.catalog.put(blocked), tables.catalog.put(other)]
    update_item = tables.ddb.update_item

    def blocked_update(**request: Any) -> Any:
        if request["Key"]["sku"]["S"] == blocked.sku:
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")
        return update_item(**request)

    monkeypatch.setattr(tables.ddb, "update_item", blocked_update)
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
    tables.ddb.log.clear()

    read = tables.catalog.read(segments=4)
    found = list(read.states())

    states = [s for s in found if isinstance(s, SkuState)]
    assert sorted(s.sku for s in states) == names
    assert sorted(s for s in found if isinstance(s, str)) == ["broken"]
    assert tables.operations(CATALOG_TABLE).count("Scan") >= 4, "each segment was read"


def test_reading_given_skus_gets_their_items_in_batches_of_100_and_skips_unknown(tables: PricingTables) -> None:
    names = [f"s-{i:03d}" for i in range(150)]
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


def record(sku: str, tick: str, outcome: str = "blocked", **extra: object) -> DecisionRecord:
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


def test_kept_decisions_are_not_stored_per_sku(tables: PricingTables) -> None:
    tables.log.write([record("a", TICK, "kept"), record("b", TICK, "applied", applied=2.2)], NOW)
    assert [key[0] for key in tables.ddb.tables[PRICING_TABLE]] == ["b"]
    assert tables.log.latest("a") is None


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
            RequestItems={CATALOG_TABLE: {"Keys": [{"sku": {"S": str(i)}} for i in range(101)]}}
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
        ("NOT contains(chunks, :two)", True),  # no such set: contains nothing
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
    """The SDK resends an update whose response timed out; the resend fails the revision condition because
    the first one landed. Re-reading finds this tick's own change: applied, not superseded."""
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    update_item = tables.ddb.update_item
    calls: list[int] = []

    def lands_then_resent(**request: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            update_item(**request)  # lands...
        return update_item(**request)  # ...and the resend is refused by its condition

    tables.ddb.update_item = lands_then_resent  # type: ignore[method-assign]
    assert tables.catalog.apply_all([(state, 2.75)], NOW, TICK, read).applied == {"oj-2-1": True}
    stored = tables.catalog.get("oj-2-1")
    assert (stored.price, stored.history) == (2.75, [2.5, 2.75]), "applied once"


def test_an_admin_setting_changed_while_the_tick_ran_supersedes_its_change(tables: PricingTables) -> None:
    state = tables.catalog.put(sku())
    read = tables.catalog.read()
    tables.catalog.configure("oj-2-1", SkuSettings(floor=2.6))  # the tick decided without this floor
    assert tables.catalog.apply_all([(state, 2.25)], NOW, TICK, read).applied == {"oj-2-1": False}
    assert tables.catalog.get("oj-2-1").price == 2.5


@pytest.mark.parametrize(
    "cursor",
    [
        {"shard": {"S": "0001"}, "after": {"S": "a"}},
        {"sku": {"S": "a"}, "item": {"S": "decision#t"}},
        {"sku": {"N": "1"}},
    ],
)
def test_a_cursor_of_another_list_or_form_is_invalid_input(tables: PricingTables, cursor: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        tables.catalog.page(5, catalog.encode_cursor(cursor))


def test_an_item_an_operator_garbled_fails_alone_and_is_left_out_of_pages(tables: PricingTables) -> None:
    names = sorted(f"s-{i:03d}" for i in range(30))
    tables.catalog.seed([sku(name) for name in names])
    tables.ddb.tables[CATALOG_TABLE][(names[0],)]["price"] = {"S": "two"}
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = tables.catalog.page(4, cursor)
        seen.extend(s.sku for s in page)
        if cursor is None:
            break
    assert sorted(seen) == names[1:]
    with pytest.raises(InvalidInput, match="does not parse"):
        tables.catalog.get(names[0])


def test_no_write_path_stores_a_sku_without_a_stage_so_the_plans_index_scan_lists_every_sku(
    tables: PricingTables,
) -> None:
    """The plan lists SKUs from the keys-only stage index, which holds only items with a `stage`."""
    tables.catalog.put(SkuState.model_validate({"sku": "put", "price": 2.0, "cost": 1.0}))  # no stage given
    tables.catalog.configure("configured", SkuSettings(price=3.0, cost=2.0))  # created without a stage
    tables.catalog.seed([SkuState.model_validate({"sku": "seeded", "price": 2.0, "cost": 1.0})])
    tables.catalog.configure("configured", SkuSettings(floor=2.5))  # a later admin change keeps it
    with pytest.raises(InvalidInput, match="cannot be removed"):
        tables.catalog.configure("configured", SkuSettings.model_validate({"stage": None}))
    state = tables.catalog.get("put")
    tables.catalog.apply(state, 2.1, NOW, TICK)  # a tick's change
    tables.catalog.set_competitor_index("seeded", 2.2, NOW)
    tables.catalog.set_competitor_index("never-stored", 2.2, NOW)  # creates nothing
    stored = tables.ddb.tables[CATALOG_TABLE]
    assert sorted(name for (name,) in stored) == ["configured", "put", "seeded"]
    assert all(item.get("stage") == {"S": Stage.MATURE.value} for item in stored.values())
    scans = len([op for op, params in tables.ddb.log if op == "Scan"])
    assert sorted(tables.catalog.names()) == ["configured", "put", "seeded"]
    index_scans = [params for op, params in tables.ddb.log if op == "Scan"][scans:]
    assert index_scans and all(p.get("IndexName") == catalog.STAGE_INDEX for p in index_scans)


def test_an_item_hand_edited_without_a_stage_reads_as_broken_until_an_admin_sends_it_again(
    tables: PricingTables,
) -> None:
    store_raw(tables.catalog, "no-stage", {"price": 2.0, "cost": 1.0})  # a console edit removed the stage
    assert tables.catalog.names() == []  # not in the stage index: the plan cannot list it...
    with pytest.raises(InvalidInput, match="does not parse"):
        tables.catalog.get("no-stage")  # ...and reads say it is broken, rather than priced as mature
    assert tables.catalog.page(10, None) == ([], None)
    tables.catalog.configure("no-stage", SkuSettings(price=2.0, cost=1.0))  # sent again: stored whole
    assert tables.catalog.names() == ["no-stage"] and tables.catalog.get("no-stage").stage is Stage.MATURE


def test_the_plans_index_scan_pages_through_the_whole_catalog(tables: PricingTables) -> None:
    names = sorted(f"s-{i:03d}" for i in range(10))  # the fake pages every 3 items
    tables.catalog.seed([sku(name, stage=stage) for name, stage in zip(names, [*Stage] * 10, strict=False)])
    assert sorted(tables.catalog.names()) == names


def test_removing_a_sku_deletes_its_item(tables: PricingTables) -> None:
    tables.catalog.put(sku())
    removed = tables.catalog.remove("oj-2-1")
    assert isinstance(removed, SkuState) and removed.price == 2.5
    with pytest.raises(NotFound):
        tables.catalog.remove("oj-2-1")


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

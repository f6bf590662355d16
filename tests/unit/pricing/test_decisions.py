"""Decision audit records: what a guard-rail decision becomes, their DynamoDB item forms (own items, and
kept decisions grouped by shard and tick), and a SKU's history merged from both."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai.errors import InvalidInput
from commerce_ai.paging import encode_cursor
from commerce_ai.pricing import decisions
from commerce_ai.pricing.catalog import shard_of
from commerce_ai.pricing.decisions import (
    KEPT_PARTITION,
    KEPT_RETENTION,
    PREFIX,
    DecisionLog,
    DecisionRecord,
    _from_item,
    _kept_record,
    _to_item,
    audit_items,
)
from commerce_ai.pricing.guardrails import Decision
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TICK = "2026-11-28T12:00:00Z"


def made(
    applied: float | None, blocked: bool = False, proposed: float = 2.7321, rules: tuple[str, ...] = ()
) -> Decision:
    return Decision("oj-2-1", 3.0, proposed, applied, list(rules), blocked, "why", "v7", "myopic-v1")


@pytest.mark.parametrize(
    ("decision", "outcome"),
    [
        (made(2.7, rules=("max_step",)), "applied"),
        (made(None, rules=("dead_band",)), "kept"),
        (made(None, blocked=True, rules=("history_outlier",)), "blocked"),
        # a blocked proposal that still corrected the price to its floor did change it
        (made(3.34, blocked=True, rules=("below_cost", "margin_correction")), "applied"),
    ],
)
def test_the_outcome_follows_the_decision(decision: Decision, outcome: str) -> None:
    record = DecisionRecord.of(decision, TICK, expected_weekly_units=41.5)
    assert record.outcome == outcome
    assert (record.sku, record.tick, record.old_price, record.applied) == ("oj-2-1", TICK, 3.0, decision.applied)
    assert (record.rules, record.reason, record.expected_weekly_units) == (decision.rules, "why", 41.5)
    assert (record.model_version, record.policy_version) == ("v7", "myopic-v1")


def test_the_proposal_is_rounded_and_a_non_finite_one_left_out() -> None:
    assert DecisionRecord.of(made(None, proposed=1.666666666), TICK).proposed == 1.6667
    for proposed in (math.nan, math.inf, -math.inf):
        assert DecisionRecord.of(made(None, blocked=True, proposed=proposed), TICK).proposed is None


def test_a_failure_record() -> None:
    record = DecisionRecord.failure("oj-2-1", TICK, "cost is not a finite number")
    assert (record.outcome, record.rules, record.reason) == (
        "failed",
        ["failed"],
        "failed: cost is not a finite number",
    )
    assert record.old_price is None and record.applied is None


def test_the_item_is_keyed_by_tick_under_the_sku() -> None:
    item = _to_item(DecisionRecord.of(made(2.7, rules=("max_step", "max_step")), TICK, 41.5), NOW)
    assert item["sku"] == {"S": "oj-2-1"} and item["item"] == {"S": PREFIX + TICK}
    assert set(item) == {"sku", "item", "decision"}, "the record's fields in one attribute: one item per SKU per tick"
    assert json.loads(item["decision"]["S"]) == {
        "tick": TICK,
        "outcome": "applied",
        "reason": "why",
        "rules": ["max_step"],
        "old_price": 3.0,
        "proposed": 2.7321,
        "applied": 2.7,
        "expected_weekly_units": 41.5,
        "model_version": "v7",
        "policy_version": "myopic-v1",
    }


def test_an_item_in_the_earlier_flat_form_is_still_read() -> None:
    flat = {
        "sku": {"S": "oj-2-1"},
        "item": {"S": PREFIX + TICK},
        "tick": {"S": TICK},
        "outcome": {"S": "applied"},
        "reason": {"S": "why"},
        "rules": {"SS": ["max_step"]},
        "old_price": {"N": "3.0"},
        "applied": {"N": "2.7"},
        "model_version": {"S": "v7"},
    }
    assert _from_item(flat) == DecisionRecord(
        sku="oj-2-1",
        tick=TICK,
        outcome="applied",
        reason="why",
        rules=["max_step"],
        old_price=3.0,
        applied=2.7,
        model_version="v7",
    )


@pytest.mark.parametrize(
    ("record", "expires"),
    [
        (DecisionRecord.of(made(None, rules=("dead_band",)), TICK), True),
        (DecisionRecord.of(made(2.7), TICK), False),
        (DecisionRecord.of(made(None, blocked=True, rules=("below_cost",)), TICK), False),
        (DecisionRecord.failure("oj-2-1", TICK, "why"), False),
        (DecisionRecord.of(made(2.7), TICK).model_copy(update={"outcome": "superseded", "applied": None}), False),
    ],
)
def test_only_kept_records_expire(record: DecisionRecord, expires: bool) -> None:
    item = _to_item(record, NOW)
    assert ("expires_at" in item) is expires
    if expires:
        assert item["expires_at"] == {"N": str(int((NOW + KEPT_RETENTION).timestamp()))}
        assert int(item["expires_at"]["N"]) - int(NOW.timestamp()) == 7 * 24 * 3600


def test_an_item_leaves_out_what_is_unset() -> None:
    item = _to_item(DecisionRecord(sku="a", tick=TICK, outcome="blocked", reason="r"), NOW)
    assert set(item) == {"sku", "item", "decision"}
    assert json.loads(item["decision"]["S"]) == {"tick": TICK, "outcome": "blocked", "reason": "r"}  # no nulls


@pytest.mark.parametrize(
    "record",
    [
        DecisionRecord.of(made(2.7, rules=("max_step", "ceiling")), TICK, 41.123),
        DecisionRecord.of(made(None, rules=("dead_band",)), TICK),
        DecisionRecord.of(made(None, blocked=True, proposed=math.nan, rules=("invalid_proposal",)), TICK),
        DecisionRecord.failure("oj-2-1", TICK, "why"),
        DecisionRecord(sku="a", tick=TICK, outcome="superseded", old_price=3.0, proposed=1.6667, reason="r"),
    ],
)
def test_records_round_trip_through_their_item(record: DecisionRecord) -> None:
    back = _from_item(_to_item(record, NOW))
    assert back == record.model_copy(update={"rules": sorted(set(record.rules))})  # stored as a string set


# ------------------------------------------------------------------ kept decisions, grouped by shard


def same_shard(count: int, start: int = 0) -> list[str]:
    """`count` SKU names that share a catalog shard (so their kept decisions share items)."""
    by_shard: dict[str, list[str]] = {}
    for n in range(start, start + 100_000):
        name = f"s-{n}"
        group = by_shard.setdefault(shard_of(name), [])
        group.append(name)
        if len(group) == count:
            return group
    raise AssertionError("no shard filled")


def kept(sku: str, tick: str, **extra: object) -> DecisionRecord:
    return DecisionRecord.model_validate({"sku": sku, "tick": tick, "outcome": "kept", "reason": "in band", **extra})


def stamp(n: int) -> str:
    return f"2026-11-{28 + n // 96:02d}T{n % 96 // 4:02d}:{n % 4 * 15:02d}:00.000Z"


def test_a_ticks_kept_decisions_of_one_shard_are_one_item_and_the_rest_their_own() -> None:
    a, b = same_shard(2)
    other = next(f"x-{n}" for n in range(1000) if shard_of(f"x-{n}") != shard_of(a))
    records = [
        kept(a, TICK, old_price=3.0, proposed=3.04, rules=["dead_band"], model_version="v7"),
        kept(b, TICK),
        kept(other, TICK),
        DecisionRecord.of(made(2.7), TICK),
    ]
    items = audit_items(records, NOW)
    partitions = sorted(i["sku"]["S"] for i in items)
    assert partitions == sorted([KEPT_PARTITION + shard_of(a), KEPT_PARTITION + shard_of(other), "oj-2-1"])
    grouped = next(i for i in items if i["sku"]["S"] == KEPT_PARTITION + shard_of(a))
    assert grouped["item"] == {"S": PREFIX + TICK}
    assert grouped["expires_at"] == {"N": str(int((NOW + KEPT_RETENTION).timestamp()))}
    assert _kept_record(grouped, a) == records[0] and _kept_record(grouped, b) == records[1]
    assert _kept_record(grouped, other) is None
    applied = next(i for i in items if i["sku"]["S"] == "oj-2-1")
    assert "expires_at" not in applied, "changes are kept for good"


@pytest.fixture
def log() -> DecisionLog:
    return DecisionLog("pricing", FakeDynamoDB(key_schemas={"pricing": ("sku", "item")}))


def walk(log: DecisionLog, sku: str, limit: int) -> tuple[list[DecisionRecord], int]:
    seen: list[DecisionRecord] = []
    cursor, pages = None, 0
    while True:
        page, cursor = log.history(sku, limit, cursor)
        assert len(page) <= limit
        seen.extend(page)
        pages += 1
        if cursor is None:
            return seen, pages
        assert pages < 1000, "the cursor does not move"


@settings(max_examples=60, deadline=None)
@given(
    outcomes=st.lists(
        st.lists(st.sampled_from(["kept", "applied", "blocked", "none"]), min_size=3, max_size=3), max_size=40
    ),
    limit=st.integers(1, 7),
    scan=st.integers(1, 8),
)
def test_history_merges_own_and_kept_items_newest_first_whatever_the_mix(
    outcomes: list[list[str]], limit: int, scan: int
) -> None:
    """Each tick, each of three SKUs of one shard is kept, changed, blocked or not decided at all; paging
    through any SKU's history at any page size gives exactly its decisions, newest first, once each, even
    when a page stops reading kept items early (`KEPT_SCAN`, made small here)."""
    log = DecisionLog("pricing", FakeDynamoDB(key_schemas={"pricing": ("sku", "item")}))
    skus = same_shard(3)
    expected: dict[str, list[DecisionRecord]] = {s: [] for s in skus}
    for n, row in enumerate(outcomes):
        records = []
        for sku, outcome in zip(skus, row, strict=True):
            if outcome == "none":
                continue
            record = (
                kept(sku, stamp(n))
                if outcome == "kept"
                else DecisionRecord(
                    sku=sku,
                    tick=stamp(n),
                    outcome=outcome,
                    reason=outcome,
                    applied=2.0 if outcome == "applied" else None,
                )
            )
            records.append(record)
            expected[sku].append(record)
        log.write(records, NOW)
    with mock.patch.object(decisions, "KEPT_SCAN", scan):
        for sku in skus:
            seen, _ = walk(log, sku, limit)
            assert seen == list(reversed(expected[sku]))
            assert log.latest(sku) == (expected[sku][-1] if expected[sku] else None)


def test_a_ticks_own_item_is_the_later_word_over_a_kept_one() -> None:
    log = DecisionLog("pricing", FakeDynamoDB(key_schemas={"pricing": ("sku", "item")}))
    a, b = same_shard(2)
    log.write([kept(a, TICK), kept(b, TICK)], NOW)  # an attempt that kept both
    changed = DecisionRecord(sku=a, tick=TICK, outcome="applied", reason="applied", applied=2.0)
    log.write([changed], NOW)  # a crashed retry that got as far as its change
    assert log.history(a, 10, None) == ([changed], None)
    assert log.history(b, 10, None) == ([kept(b, TICK)], None)


def test_a_sku_missing_from_many_kept_items_gets_short_pages_that_still_end(
    log: DecisionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decisions, "KEPT_SCAN", 10)
    a, b = same_shard(2)
    log.write([kept(a, stamp(0))], NOW)
    for n in range(1, 40):
        log.write([kept(b, stamp(n))], NOW)  # a is not decided in these ticks
    seen, pages = walk(log, a, 5)
    assert seen == [kept(a, stamp(0))] and 4 <= pages <= 5, "each page reads at most KEPT_SCAN kept items"


def test_a_kept_decision_in_the_earlier_form_under_its_sku_is_still_read(log: DecisionLog) -> None:
    a, b = same_shard(2)
    log.ddb.put_item(TableName="pricing", Item=_to_item(kept(a, stamp(0)), NOW))  # as ticks wrote it before
    log.write([kept(a, stamp(1)), kept(b, stamp(1))], NOW)
    assert walk(log, a, 1)[0] == [kept(a, stamp(1)), kept(a, stamp(0))]


def test_a_history_cursor_is_refused_for_another_sku_or_another_list(log: DecisionLog) -> None:
    a, b = same_shard(2)
    log.write([kept(a, stamp(n)) for n in range(3)] + [kept(b, stamp(n)) for n in range(3)], NOW)
    _, of_b = log.history(b, 1, None)
    with pytest.raises(InvalidInput, match="another SKU"):
        log.history(a, 1, of_b)
    foreign = encode_cursor({"sku": {"S": a}, "item": {"S": "competitor#megamart"}})
    with pytest.raises(InvalidInput, match="another SKU or list"):
        log.history(a, 1, foreign)


def test_a_full_page_of_own_records_stops_the_kept_scan_at_their_oldest(log: DecisionLog) -> None:
    a, b = same_shard(2)
    for n in range(300):
        log.write([kept(b, stamp(n))], NOW)  # a busy shard a is not kept in
    changed = DecisionRecord(sku=a, tick=stamp(299), outcome="applied", reason="applied", applied=2.0)
    log.write([changed], NOW)
    log.ddb.log.clear()
    assert log.latest(a) == changed
    queries = [params for operation, params in log.ddb.log if operation == "Query"]
    assert len(queries) <= 3, "the own record bounds the kept side: no scan of the shard's 300 kept items"

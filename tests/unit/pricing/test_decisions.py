"""Decision audit records: what a guard-rail decision becomes, their DynamoDB item (changes, blocks and
failures; kept decisions go only to the S3 log), and a SKU's history."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai.errors import InvalidInput
from commerce_ai.paging import encode_cursor
from commerce_ai.pricing.decisions import (
    PREFIX,
    DecisionLog,
    DecisionRecord,
    _from_item,
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
    item = _to_item(DecisionRecord.of(made(2.7, rules=("max_step", "max_step")), TICK, 41.5))
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


@pytest.mark.parametrize(
    ("record", "stored"),
    [
        (DecisionRecord.of(made(None, rules=("dead_band",)), TICK), False),
        (DecisionRecord.of(made(2.7), TICK), True),
        (DecisionRecord.of(made(None, blocked=True, rules=("below_cost",)), TICK), True),
        (DecisionRecord.failure("oj-2-1", TICK, "why"), True),
        (DecisionRecord.of(made(2.7), TICK).model_copy(update={"outcome": "superseded", "applied": None}), True),
    ],
)
def test_only_decisions_that_did_something_are_stored_per_sku(record: DecisionRecord, stored: bool) -> None:
    items = audit_items([record])
    assert len(items) == int(stored)
    assert all("expires_at" not in item for item in items), "changes, blocks and failures are kept for good"


def test_an_item_leaves_out_what_is_unset() -> None:
    item = _to_item(DecisionRecord(sku="a", tick=TICK, outcome="blocked", reason="r"))
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
    back = _from_item(_to_item(record))
    assert back == record.model_copy(update={"rules": sorted(set(record.rules))})  # stored as a string set


# ------------------------------------------------------------------------------------------ history


def stamp(n: int) -> str:
    return f"2026-11-{1 + n // 96:02d}T{n % 96 // 4:02d}:{n % 4 * 15:02d}:00.000Z"


@pytest.fixture
def log() -> DecisionLog:
    return DecisionLog("pricing", FakeDynamoDB(key_schemas={"pricing": ("sku", "item")}))


def walk(
    log: DecisionLog, sku: str, limit: int, recent: list[DecisionRecord] | None = None
) -> tuple[list[DecisionRecord], int]:
    seen: list[DecisionRecord] = []
    cursor, pages = None, 0
    while True:
        page, cursor = log.history(sku, limit, cursor, recent)
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
    kept_on_item=st.integers(1, 3),
)
def test_history_is_the_skus_recent_changes_and_its_blocks_newest_first_whatever_the_mix(
    outcomes: list[list[str]], limit: int, kept_on_item: int
) -> None:
    """Each tick, each of three SKUs is kept, changed, blocked or not decided at all. Changes are recorded
    on the SKU's catalog item (its latest `kept_on_item` of them), blocks as audit items; paging through
    any SKU's history at any page size gives exactly its recent changes and its blocks, merged newest first,
    once each."""
    log = DecisionLog("pricing", FakeDynamoDB(key_schemas={"pricing": ("sku", "item")}))
    skus = ["a", "b", "c"]
    changes: dict[str, list[DecisionRecord]] = {s: [] for s in skus}  # newest first, as the item keeps them
    blocks: dict[str, list[DecisionRecord]] = {s: [] for s in skus}
    for n, row in enumerate(outcomes):
        records = []
        for sku, outcome in zip(skus, row, strict=True):
            if outcome == "none":
                continue
            record = DecisionRecord(
                sku=sku,
                tick=stamp(n),
                outcome=outcome,
                reason=outcome,
                applied=2.0 if outcome == "applied" else None,
            )
            if outcome == "applied":
                changes[sku] = [record, *changes[sku]][:kept_on_item]
            else:
                records.append(record)
                if outcome == "blocked":
                    blocks[sku].append(record)
        log.write(records, NOW)  # kept ones are not stored
    for sku in skus:
        expected = sorted([*changes[sku], *blocks[sku]], key=lambda r: r.tick, reverse=True)
        seen, _ = walk(log, sku, limit, changes[sku])
        assert seen == expected
        assert log.latest(sku, changes[sku]) == (expected[0] if expected else None)


def test_a_history_cursor_is_refused_for_another_sku_or_another_list(log: DecisionLog) -> None:
    log.write([blocked("a", stamp(n)) for n in range(3)] + [blocked("b", stamp(n)) for n in range(3)], NOW)
    _, of_b = log.history("b", 1, None)
    with pytest.raises(InvalidInput, match="another SKU"):
        log.history("a", 1, of_b)
    foreign = encode_cursor({"sku": {"S": "a"}, "item": {"S": "competitor#megamart"}})
    with pytest.raises(InvalidInput, match="another SKU or list"):
        log.history("a", 1, foreign)


def blocked(sku: str, tick: str) -> DecisionRecord:
    return DecisionRecord(sku=sku, tick=tick, outcome="blocked", reason="blocked")

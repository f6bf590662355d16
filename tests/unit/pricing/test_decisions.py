"""Decision audit records: what a guard-rail decision becomes, and their DynamoDB item form."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from commerce_ai.pricing.decisions import KEPT_RETENTION, PREFIX, DecisionRecord, _from_item, _to_item
from commerce_ai.pricing.guardrails import Decision

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

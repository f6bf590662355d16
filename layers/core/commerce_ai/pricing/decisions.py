"""The decision audit in DynamoDB, newest first per SKU: its changes, blocks and failures.

A tick's change is recorded with the change itself, on the SKU's catalog item (`recent_changes` in
`commerce_ai.pricing.catalog`, written by the same conditioned UpdateItem: one write unit a change), which
keeps the SKU's most recent changes, as many as fit the item in 1 KB; every tick's whole log is in S3.
Blocks, failures and superseded decisions, and an admin's price, are items of their own under the SKU in
the pricing table, keyed by the tick (`decision#<tick>`), so writing one again on a retried tick
overwrites it with the same content instead of adding a second one. Their fields are one JSON attribute,
`decision`. `DecisionLog.history` merges both, newest first.

Kept decisions (a settled catalog's nearly all) are not stored per SKU: the whole decision log of a tick,
kept ones included, goes to S3 (`commerce_ai.pricing.decision_archive`), and a tick's counts to its status
item (`commerce_ai.pricing.tick_log`).
"""

from __future__ import annotations

import concurrent.futures
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_write
from commerce_ai.errors import InvalidInput
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.pricing.guardrails import Decision

PREFIX = "decision#"
MAX_HISTORY_PAGE = 100
BATCH = 25  # BatchWriteItem's limit
WRITE_THREADS = 8
Outcome = Literal["applied", "kept", "blocked", "failed", "superseded"]


class DecisionRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str
    tick: str
    outcome: Outcome
    old_price: float | None = None
    proposed: float | None = None
    applied: float | None = None
    rules: list[str] = []
    reason: str
    expected_weekly_units: float | None = None
    model_version: str | None = None
    policy_version: str | None = None

    @classmethod
    def of(cls, decision: Decision, tick: str, expected_weekly_units: float | None = None) -> DecisionRecord:
        outcome: Outcome = "applied" if decision.applied is not None else "blocked" if decision.blocked else "kept"
        return cls(
            sku=decision.sku,
            tick=tick,
            outcome=outcome,
            old_price=decision.old_price,
            proposed=round(decision.proposed, 4) if _finite(decision.proposed) else None,
            applied=decision.applied,
            rules=decision.rules,
            reason=decision.reason,
            expected_weekly_units=expected_weekly_units,
            model_version=decision.model_version,
            policy_version=decision.policy_version,
        )

    @classmethod
    def failure(cls, sku: str, tick: str, why: str) -> DecisionRecord:
        return cls(sku=sku, tick=tick, outcome="failed", rules=["failed"], reason=f"failed: {why}")


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


RECORD = "decision"


def fields_of(record: DecisionRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {"tick": record.tick, "outcome": record.outcome, "reason": record.reason}
    if record.rules:
        fields["rules"] = sorted(set(record.rules))
    for name in ("old_price", "proposed", "applied", "expected_weekly_units"):
        value = getattr(record, name)
        if value is not None:
            fields[name] = round(value, 4)
    for name in ("model_version", "policy_version"):
        value = getattr(record, name)
        if value:
            fields[name] = value
    return fields


def _to_item(record: DecisionRecord) -> dict[str, Any]:
    """A record as its own item under its SKU."""
    return {
        "sku": {"S": record.sku},
        "item": {"S": PREFIX + record.tick},
        RECORD: {"S": json.dumps(fields_of(record), separators=(",", ":"), ensure_ascii=False)},
    }


def audit_items(records: list[DecisionRecord]) -> list[dict[str, Any]]:
    """The items that store `records` in DynamoDB: one per decision that did something; kept ones none."""
    return [_to_item(record) for record in records if record.outcome != "kept"]


def _from_item(item: dict[str, Any]) -> DecisionRecord:
    return DecisionRecord.model_validate({"sku": item["sku"]["S"], **json.loads(item[RECORD]["S"])})


def recent_records(sku: str, recent_changes: list[dict[str, Any]]) -> list[DecisionRecord]:
    """The change records a SKU's catalog item holds (newest first); one edited into something else by hand
    is left out rather than failing the SKU's history."""
    found = []
    for fields in recent_changes:
        try:
            found.append(DecisionRecord.model_validate({**fields, "sku": sku}))
        except ValueError:
            continue
    return found


class DecisionLog:
    ddb = aws.ClientAttribute("dynamodb")
    bulk = aws.ClientAttribute("dynamodb", bulk=True, injected="_ddb")  # the tick's audit writes

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def write(self, records: list[DecisionRecord], now: datetime | None = None) -> None:
        """Store the records that did something (kept ones are left to the S3 log), 25 an item batch."""
        items = audit_items(records)
        chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        if not chunks:
            return
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(chunks))) as pool:
            list(pool.map(self._write_batch, chunks))

    def _write_batch(self, items: list[dict[str, Any]], attempts: int = 8) -> None:
        request = {self.table: [{"PutRequest": {"Item": item}} for item in items]}
        batch_write(self.bulk, request, attempts=attempts)

    def history(
        self, sku: str, limit: int, cursor: str | None, recent: list[DecisionRecord] | None = None
    ) -> tuple[list[DecisionRecord], str | None]:
        """The SKU's changes, blocks and failures, newest first, paged: its audit items merged with the
        `recent` change records its catalog item holds. A cursor is the position of the last record shown
        (`decision#<tick>` under the SKU), so a page continues below it in both."""
        start = decode_cursor(cursor, {"sku", "item"})
        if start and not start["item"]["S"].startswith(PREFIX):
            raise InvalidInput("cursor belongs to another SKU or list")
        before = start["item"]["S"].removeprefix(PREFIX) if start else None
        items, after = newest_first(self.ddb, self.table, sku, PREFIX, limit, cursor, MAX_HISTORY_PAGE)
        candidates = [r for r in recent or [] if before is None or r.tick < before]
        candidates += [_from_item(item) for item in items]
        candidates.sort(key=lambda r: r.tick, reverse=True)
        shown = candidates[:limit]
        more = bool(shown) and (len(candidates) > limit or after is not None)
        next_cursor = encode_cursor({"sku": {"S": sku}, "item": {"S": PREFIX + shown[-1].tick}}) if more else None
        return shown, next_cursor

    def latest(self, sku: str, recent: list[DecisionRecord] | None = None) -> DecisionRecord | None:
        records, _ = self.history(sku, 1, None, recent)
        return records[0] if records else None


def _descending(table: str, partition: str, condition: str, value: str, limit: int) -> dict[str, Any]:
    """A newest-first query of a pricing-table partition's items whose sort key (`#item`) meets
    `condition` on `:value`."""
    return {
        "TableName": table,
        "KeyConditionExpression": f"sku = :partition AND {condition}",
        "ExpressionAttributeNames": {"#item": "item"},
        "ExpressionAttributeValues": {":partition": {"S": partition}, ":value": {"S": value}},
        "ScanIndexForward": False,
        "Limit": limit,
    }


def newest_first(
    client: Any, table: str, partition: str, prefix: str, limit: int, cursor: str | None, most: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a pricing-table partition's items whose sort key starts with `prefix`, newest (highest
    key) first, with the cursor of the next page; InvalidInput for a limit out of 1..`most` or a cursor
    that is not one this partition's pages handed out."""
    if not 1 <= limit <= most:
        raise InvalidInput(f"limit must be between 1 and {most}")
    request = _descending(table, partition, "begins_with(#item, :value)", prefix, limit)
    start = decode_cursor(cursor, {"sku", "item"})
    if start:
        if start["sku"] != {"S": partition}:
            raise InvalidInput("cursor belongs to another SKU or list")
        request["ExclusiveStartKey"] = start
    response = client.query(**request)
    return response.get("Items", []), encode_cursor(response.get("LastEvaluatedKey"))

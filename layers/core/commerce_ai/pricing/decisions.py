"""The decision audit: a record per SKU per tick in the pricing table, keyed by the tick.

A record says what the tick saw and did: old, proposed and applied price, the rules that fired, the model
and policy versions and a human-readable reason. Its key is the tick, so writing it again on a retried
tick overwrites it with the same content instead of adding a second one.

Two forms, one record type:
- a decision that did something (applied, blocked, failed, superseded) is its own item under the SKU,
  `decision#<tick>`, its fields as one JSON attribute `decision`, kept for good;
- a decision that changed nothing (`kept`: most of them, in a settled catalog nearly all) goes with the
  other kept decisions of its catalog shard in that tick into one item, partition `#kept#<shard>` (no
  SKU can be named so), sort key `decision#<tick>`, their fields as one zlib-compressed JSON object
  `decisions` keyed by SKU. It expires after `KEPT_RETENTION` (DynamoDB TTL).
So a 100k-SKU tick writes about a thousand kept items plus one item per change instead of 100k items:
the audit was most of a tick's time on the emulator and its write cost on DynamoDB. A SKU's history
merges its own items with its shard's kept items, newest first; reading the kept side reads the whole
shard's kept decisions of each tick (a few KB compressed), which is the price of the cheap writes.
Items in the earlier forms (a kept decision under its SKU; one attribute per field) are still read.
"""

from __future__ import annotations

import concurrent.futures
import json
import zlib
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict

from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_write
from commerce_ai.errors import InvalidInput
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.pricing.catalog import shard_of
from commerce_ai.pricing.guardrails import Decision

PREFIX = "decision#"
KEPT_PARTITION = "#kept#"
AFTER_ALL = "decision$"  # sorts after every `decision#<tick>` and before the partition's other items
KEPT_SCAN = 200  # kept items one history page reads at most (about 1 MB) before it answers short
KEPT_RETENTION = timedelta(days=7)
MAX_HISTORY_PAGE = 100
BATCH = 25  # BatchWriteItem's limit
WRITE_THREADS = 8
Outcome = Literal["applied", "kept", "blocked", "failed", "superseded"]
_deserializer = TypeDeserializer()


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
KEPT = "decisions"


def _fields(record: DecisionRecord) -> dict[str, Any]:
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


def _expiry(now: datetime) -> dict[str, str]:
    return {"N": str(int((now + KEPT_RETENTION).timestamp()))}


def _to_item(record: DecisionRecord, now: datetime) -> dict[str, Any]:
    """A record as its own item under its SKU (the form of decisions that did something)."""
    item: dict[str, Any] = {
        "sku": {"S": record.sku},
        "item": {"S": PREFIX + record.tick},
        RECORD: {"S": json.dumps(_fields(record), separators=(",", ":"), ensure_ascii=False)},
    }
    if record.outcome == "kept":
        item["expires_at"] = _expiry(now)
    return item


def _kept_item(shard: str, tick: str, records: list[DecisionRecord], now: datetime) -> dict[str, Any]:
    """One shard's kept decisions of one tick as one item."""
    decisions = {r.sku: {k: v for k, v in _fields(r).items() if k != "tick"} for r in records}
    packed = zlib.compress(json.dumps(decisions, separators=(",", ":"), ensure_ascii=False).encode())
    return {
        "sku": {"S": KEPT_PARTITION + shard},
        "item": {"S": PREFIX + tick},
        KEPT: {"B": packed},
        "expires_at": _expiry(now),
    }


def audit_items(records: list[DecisionRecord], now: datetime) -> list[dict[str, Any]]:
    """The items that store `records`: kept ones grouped by catalog shard and tick, the rest one each."""
    kept: dict[tuple[str, str], list[DecisionRecord]] = defaultdict(list)
    items = []
    for record in records:
        if record.outcome == "kept":
            kept[(shard_of(record.sku), record.tick)].append(record)
        else:
            items.append(_to_item(record, now))
    items.extend(_kept_item(shard, tick, group, now) for (shard, tick), group in kept.items())
    return items


def _kept_record(item: dict[str, Any], sku: str) -> DecisionRecord | None:
    """The SKU's decision in a kept item, if the item holds one for it."""
    fields = json.loads(zlib.decompress(item[KEPT]["B"])).get(sku)
    if fields is None:
        return None
    return DecisionRecord.model_validate({**fields, "sku": sku, "tick": item["item"]["S"].removeprefix(PREFIX)})


def _from_item(item: dict[str, Any]) -> DecisionRecord:
    if RECORD in item:
        return DecisionRecord.model_validate({"sku": item["sku"]["S"], **json.loads(item[RECORD]["S"])})
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}  # the earlier flat form
    plain["rules"] = sorted(plain.get("rules", ()))
    return DecisionRecord.model_validate({k: float(v) if hasattr(v, "as_tuple") else v for k, v in plain.items()})


class DecisionLog:
    ddb = aws.ClientAttribute("dynamodb")
    bulk = aws.ClientAttribute("dynamodb", bulk=True, injected="_ddb")  # the tick's audit writes

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def write(self, records: list[DecisionRecord], now: datetime) -> None:
        """Store `records`. The kept ones of a shard and tick are one item, so they must come in one call
        (a tick writes all its records at once; the later rewrite of refused changes has no kept ones)."""
        items = audit_items(records, now)
        chunks = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
        if not chunks:
            return
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(chunks))) as pool:
            list(pool.map(self._write_batch, chunks))

    def _write_batch(self, items: list[dict[str, Any]], attempts: int = 8) -> None:
        request = {self.table: [{"PutRequest": {"Item": item}} for item in items]}
        batch_write(self.bulk, request, attempts=attempts)

    def history(self, sku: str, limit: int, cursor: str | None) -> tuple[list[DecisionRecord], str | None]:
        """Newest first, paged: the SKU's own items merged with its shard's kept items. A page can hold
        fewer than `limit` records (when the kept items read hold few of this SKU's) and still have a
        next cursor; the history ends when the cursor is None."""
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY_PAGE}")
        start = decode_cursor(cursor, {"sku", "item"})
        if start and (start["sku"] != {"S": sku} or not start["item"]["S"].startswith(PREFIX)):
            raise InvalidInput("cursor belongs to another SKU or list")
        before = start["item"]["S"] if start else AFTER_ALL
        own, own_rest = self._own(sku, before, limit)
        # With a full page of own records, kept ones older than the oldest of them cannot make the page.
        enough = own[-1].tick if len(own) >= limit else None
        kept, kept_rest = self._kept(sku, before, limit, enough)
        # Each side is complete down to the oldest tick it read; below the higher of those two marks
        # only one side has been read, so the page stops there and the next one starts there.
        marks = [mark for mark in (own_rest, kept_rest) if mark is not None]
        cutoff = max(marks) if marks else None
        merged = {r.tick: r for r in kept} | {r.tick: r for r in own}  # a tick's own item is the later word
        page = sorted((r for r in merged.values() if cutoff is None or r.tick >= cutoff), key=lambda r: r.tick)
        page.reverse()
        if len(page) > limit:
            page, cutoff = page[:limit], page[limit - 1].tick
        after = None if cutoff is None else encode_cursor({"sku": {"S": sku}, "item": {"S": PREFIX + cutoff}})
        return page, after

    def _own(self, sku: str, before: str, limit: int) -> tuple[list[DecisionRecord], str | None]:
        """Up to `limit` of the SKU's own records older than `before`, and the tick read down to if more
        may follow (None when none do)."""
        response = self.ddb.query(**_older(self.table, sku, before, limit))
        items = [i for i in response.get("Items", []) if i["item"]["S"].startswith(PREFIX)]
        records = [_from_item(i) for i in items]
        more = len(items) == len(response.get("Items", [])) and "LastEvaluatedKey" in response
        return records, (records[-1].tick if more and records else None)

    def _kept(self, sku: str, before: str, limit: int, down_to: str | None) -> tuple[list[DecisionRecord], str | None]:
        """The SKU's kept records in its shard's kept items older than `before`: read until `limit` are
        found, an item older than `down_to` is reached, the partition ends or `KEPT_SCAN` items are read;
        and the tick read down to if more may follow (None when none do)."""
        found: list[DecisionRecord] = []
        request = _older(self.table, KEPT_PARTITION + shard_of(sku), before, limit)
        read, last = 0, None
        while True:
            response = self.ddb.query(**request)
            for item in response.get("Items", []):
                read += 1
                last = item["item"]["S"].removeprefix(PREFIX)
                if down_to is not None and last < down_to:
                    return found, down_to
                record = _kept_record(item, sku)
                if record is not None:
                    found.append(record)
            following = response.get("LastEvaluatedKey")
            if following is None:
                return found, None
            if len(found) >= limit or read >= KEPT_SCAN:
                return found, last
            request["ExclusiveStartKey"] = following

    def latest(self, sku: str) -> DecisionRecord | None:
        cursor: str | None = None
        while True:  # a history page can be short, even empty, before the end
            records, cursor = self.history(sku, 1, cursor)
            if records or cursor is None:
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


def _older(table: str, partition: str, before: str, limit: int) -> dict[str, Any]:
    return _descending(table, partition, "#item < :value", before, limit)


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

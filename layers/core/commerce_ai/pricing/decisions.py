"""The decision audit: one record per SKU per tick in the pricing table (`decision#<tick>` under the SKU).

A record says what the tick saw and did: old, proposed and applied price, the rules that fired, the model
and policy versions and a human-readable reason. Its key is the tick, so writing it again on a retried
tick overwrites it with the same content instead of adding a second one. Records of decisions that
changed nothing expire after `KEPT_RETENTION` (DynamoDB TTL); changes, blocks and failures are kept.

The item is the key, `expires_at` (TTL needs a top-level number) and the record's fields as one JSON
attribute, `decision`: a tick writes one item per SKU, and the emulator's (and DynamoDB's) cost per item
grows with its attribute count. Items in the earlier flat form (one attribute per field) are still read.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from datetime import datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel, ConfigDict

from commerce_ai import aws
from commerce_ai.errors import InvalidInput
from commerce_ai.pricing.catalog import decode_cursor, encode_cursor
from commerce_ai.pricing.guardrails import Decision

PREFIX = "decision#"
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


def _to_item(record: DecisionRecord, now: datetime) -> dict[str, Any]:
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
    item: dict[str, Any] = {
        "sku": {"S": record.sku},
        "item": {"S": PREFIX + record.tick},
        RECORD: {"S": json.dumps(fields, separators=(",", ":"), ensure_ascii=False)},
    }
    if record.outcome == "kept":
        item["expires_at"] = {"N": str(int((now + KEPT_RETENTION).timestamp()))}
    return item


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
        chunks = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]
        if not chunks:
            return
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(chunks))) as pool:
            list(pool.map(lambda chunk: self._write_batch([_to_item(r, now) for r in chunk]), chunks))

    def _write_batch(self, items: list[dict[str, Any]], attempts: int = 8) -> None:
        request = {self.table: [{"PutRequest": {"Item": item}} for item in items]}
        for attempt in range(attempts):
            response = self.bulk.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                return
            time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off, as the SDK does for whole calls
        raise RuntimeError(f"{len(request.get(self.table, []))} decision records stayed unprocessed")

    def history(self, sku: str, limit: int, cursor: str | None) -> tuple[list[DecisionRecord], str | None]:
        """Newest first, paged."""
        items, after = newest_first(self.ddb, self.table, sku, PREFIX, limit, cursor, MAX_HISTORY_PAGE)
        return [_from_item(i) for i in items], after

    def latest(self, sku: str) -> DecisionRecord | None:
        records, _ = self.history(sku, 1, None)
        return records[0] if records else None


def newest_first(
    client: Any, table: str, partition: str, prefix: str, limit: int, cursor: str | None, most: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a pricing-table partition's items whose sort key starts with `prefix`, newest (highest
    key) first, with the cursor of the next page; InvalidInput for a limit out of 1..`most` or a cursor
    that is not one this partition's pages handed out."""
    if not 1 <= limit <= most:
        raise InvalidInput(f"limit must be between 1 and {most}")
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "sku = :partition AND begins_with(#item, :prefix)",
        "ExpressionAttributeNames": {"#item": "item"},
        "ExpressionAttributeValues": {":partition": {"S": partition}, ":prefix": {"S": prefix}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    start = decode_cursor(cursor, {"sku", "item"})
    if start:
        if start["sku"] != {"S": partition}:
            raise InvalidInput("cursor belongs to another SKU or list")
        request["ExclusiveStartKey"] = start
    response = client.query(**request)
    return response.get("Items", []), encode_cursor(response.get("LastEvaluatedKey"))

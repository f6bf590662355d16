"""What AWS would bill for the calls a benchmark actually made: a cost model, not a measurement of AWS.

`counting_calls()` records every AWS API call any boto3 client in this process makes (service, operation,
request size, DynamoDB consumed capacity where the emulator reports none, so it is derived from item
sizes). `bill()` turns them into the units AWS bills and a dollar figure at us-east-1 list prices
(December 2026; on-demand DynamoDB, standard SQS, REST API Gateway). Calls the emulator makes on its own
(SNS delivering to its SQS subscribers) are passed in by the caller, since no client makes them here.

Billing rules used (from the services' pricing pages):
- SNS: a Publish or PublishBatch request is billed per 64 KB chunk of its payload; deliveries to SQS are
  not billed by SNS, but each lands as an SQS request on the queue.
- SQS: every API request is billed per 64 KB chunk of its payload (a batch of 10 small messages is one).
- S3: PUT/COPY/POST/LIST per 1,000 requests; GET per 1,000 requests.
- DynamoDB on demand: a write request unit per 1 KB written per item, a read request unit per 4 KB read
  (strongly consistent; half for eventually consistent). Sizes are DynamoDB's item sizes (attribute names
  plus values, `item_bytes`): reads are billed from the items the responses carry (GetItem and
  BatchGetItem per item, Query and Scan per request over the items' total), writes from the items the
  requests carry. A Query or Scan is billed by the items it *reads*, whole (a table's items, or an index's
  entries), whatever its ProjectionExpression or FilterExpression leaves out of the response: such a
  request is billed on what it returned until the caller resolves it (`CallLog.partial_reads`,
  `resolve_reads`, which sends it again without projection or filter and bills the items read). An
  UpdateItem is billed by the item's size after the write (DynamoDB: the larger of before and after), which
  the request does not carry: one unit unless the caller resolves it (`CallLog.updates`, `resolve_updates`,
  which bills every update of an item by the item's final size: exact for an item that does not grow,
  an upper bound for one that does, such as a tick status gaining a chunk number each update). A
  TransactWriteItems is billed twice per item (two units per item of up to 1 KB).
- API Gateway (REST): per request. Lambda: per invocation (duration is not modelled here).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

CHUNK = 64 * 1024
PRICES = {  # dollars per unit, us-east-1 list prices
    "sns_request": 0.50 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "s3_put": 0.005 / 1e3,
    "s3_get": 0.0004 / 1e3,
    "dynamodb_wru": 1.25 / 1e6,
    "dynamodb_rru": 0.25 / 1e6,
    "api_request": 3.50 / 1e6,
    "lambda_invocation": 0.20 / 1e6,
}
S3_PUT_CLASS = {"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload", "UploadPart"}
S3_GET_CLASS = {"GetObject", "HeadObject"}
# What makes a Query or Scan return less than it reads (and is billed for).
PARTIAL_READ = ("ProjectionExpression", "FilterExpression", "Select")


def _payload_bytes(operation: str, params: dict[str, Any]) -> int:
    if operation == "PublishBatch":
        return sum(len(e.get("Message", "").encode()) for e in params.get("PublishBatchRequestEntries", []))
    if operation == "SendMessageBatch":
        return sum(len(e.get("MessageBody", "").encode()) for e in params.get("Entries", []))
    if operation in ("Publish",):
        return len(params.get("Message", "").encode())
    if operation == "SendMessage":
        return len(params.get("MessageBody", "").encode())
    return 0


def _value_bytes(value: dict[str, Any]) -> int:
    """A DynamoDB attribute value's size as DynamoDB counts it (numbers: about one byte per two digits)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner.lstrip("-").replace(".", "").lstrip("0")) // 2 + 2
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(_value_bytes({"N": v}) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + _value_bytes(v) for v in inner)
    if kind == "M":
        return 3 + item_bytes(inner) + len(inner)
    return len(json.dumps(inner, default=str).encode())


def item_bytes(item: dict[str, Any]) -> int:
    """A DynamoDB item's size: its attribute names and values (low-level boto3 form)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _write_units(item: dict[str, Any]) -> int:
    return max(1, math.ceil(item_bytes(item) / 1024))


def _read_units(total_bytes: int, consistent: bool) -> float:
    return max(1, math.ceil(total_bytes / 4096)) * (1.0 if consistent else 0.5)


def _item_units(params: dict[str, Any], operation: str, response: dict[str, Any] | None = None) -> float:
    """DynamoDB request units of a write or read call, from the sizes of the items it carries (a read's
    from its response; without one, a read is counted as one small item per key)."""
    response = response or {}
    if operation == "PutItem":
        return _write_units(params.get("Item", {}))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1  # the item's size decides; `resolve_updates` can measure it afterwards
    if operation == "BatchWriteItem":
        requests = [r for rs in params.get("RequestItems", {}).values() for r in rs]
        return sum(_write_units(r["PutRequest"]["Item"]) if "PutRequest" in r else 1 for r in requests)
    if operation == "GetItem":
        return _read_units(item_bytes(response.get("Item", {})), bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        consistent = {t: bool(r.get("ConsistentRead")) for t, r in params.get("RequestItems", {}).items()}
        if "Responses" not in response:
            return sum(len(t.get("Keys", [])) * 0.5 for t in params.get("RequestItems", {}).values())
        return sum(
            _read_units(item_bytes(item), consistent.get(table, False))
            for table, items in response["Responses"].items()
            for item in items
        )
    if operation in ("Query", "Scan"):
        total = sum(item_bytes(item) for item in response.get("Items", []))
        return _read_units(total, bool(params.get("ConsistentRead")))
    if operation == "TransactWriteItems":
        return 2 * len(params.get("TransactItems", []))
    return 0


@dataclass
class CallLog:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    chunks: Counter[tuple[str, str]] = field(default_factory=Counter)
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
    # (table, key) of every UpdateItem: billed one unit each until `resolve_updates` measures the items.
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Query and Scan requests whose projection or filter left part of what they read out of the response
    # (with the units billed on what they returned), until `resolve_reads` measures what they read.
    partial_reads: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _paused: bool = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Calls made in the block are not recorded (a benchmark's baseline side, interleaved with its own)."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def record(
        self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any] | None = None
    ) -> None:
        if self._paused:
            return
        with self._lock:
            self.calls[(service, operation)] += 1
            self.chunks[(service, operation)] += max(1, math.ceil(_payload_bytes(operation, params) / CHUNK))
            if service == "dynamodb":
                units = _item_units(params, operation, response)
                if operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
                    self.dynamodb_read_units += units
                else:
                    self.dynamodb_write_units += units
                if operation == "UpdateItem":
                    self.updates.append((params["TableName"], params["Key"]))
                if operation in ("Query", "Scan") and any(name in params for name in PARTIAL_READ):
                    self.partial_reads.append((operation, dict(params), units))

    def dynamodb_requests(self) -> Counter[str]:
        return Counter({op: n for (service, op), n in self.calls.items() if service == "dynamodb"})


def resolve_updates(log: CallLog, client: Any) -> None:
    """Bill each recorded UpdateItem by its item's size now (after the writes; DynamoDB bills the larger of
    before and after, which for the tick's small updates is the same number of 1 KB units). Reads the items
    with `client` outside any counting."""
    keys: dict[str, dict[str, dict[str, Any]]] = {}
    for table, key in log.updates:
        keys.setdefault(table, {})[json.dumps(key, sort_keys=True)] = key
    units = 0.0
    for table, by_text in keys.items():
        sizes: dict[str, int] = {}
        wanted = list(by_text.values())
        key_names = list(wanted[0]) if wanted else []
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {table: {"Keys": wanted[start : start + 100]}}
            while request:
                response = client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(table, []):
                    sizes[json.dumps({k: item[k] for k in key_names}, sort_keys=True)] = item_bytes(item)
                request = response.get("UnprocessedKeys") or {}
        for table_name, key in log.updates:
            if table_name == table:
                units += max(1, math.ceil(sizes.get(json.dumps(key, sort_keys=True), 0) / 1024))
    with log._lock:
        log.dynamodb_write_units += units - len(log.updates)


def _whole_read(params: dict[str, Any]) -> dict[str, Any]:
    """A Query or Scan request without what hides part of the items it reads (projection, filter, Select),
    keeping only the expression names and values its key condition still uses."""
    request = {k: v for k, v in params.items() if k not in (*PARTIAL_READ, "ExpressionAttributeNames")}
    request.pop("ExpressionAttributeValues", None)
    condition = params.get("KeyConditionExpression", "")
    names = {k: v for k, v in (params.get("ExpressionAttributeNames") or {}).items() if k in condition}
    values = {k: v for k, v in (params.get("ExpressionAttributeValues") or {}).items() if k in condition}
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    return request


def resolve_reads(log: CallLog, client: Any) -> None:
    """Bill each recorded partial Query or Scan by the items it read, whole: the same request (same page
    start and limit) sent again with `client` outside any counting, without projection or filter. The
    items are as they are now, so a page read before the items grew or shrank is billed at today's sizes."""
    original = getattr(BaseClient._make_api_call, "__wrapped__", BaseClient._make_api_call)
    units = 0.0
    for operation, params, _ in log.partial_reads:
        method = client.query if operation == "Query" else client.scan
        request = _whole_read(params)
        with _uncounted(original):
            response = method(**request)
        units += _item_units(request, operation, response)
    with log._lock:
        log.dynamodb_read_units += units - sum(billed for _, _, billed in log.partial_reads)
        log.partial_reads.clear()


@contextmanager
def _uncounted(original: Any) -> Iterator[None]:
    """Calls made in the block go to botocore's own `_make_api_call` (not recorded by `counting_calls`)."""
    counted = BaseClient._make_api_call
    BaseClient._make_api_call = original
    try:
        yield
    finally:
        BaseClient._make_api_call = counted


@contextmanager
def counting_calls() -> Iterator[CallLog]:
    """Record every AWS API call made in this process while the block runs."""
    log = CallLog()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        try:
            response = original(self, operation_name, api_params)
        except Exception:  # a refused conditional write is billed too
            log.record(self.meta.service_model.service_name, operation_name, api_params)
            raise
        log.record(self.meta.service_model.service_name, operation_name, api_params, response)
        return response

    counted.__wrapped__ = original  # type: ignore[attr-defined]
    BaseClient._make_api_call = counted
    try:
        yield log
    finally:
        BaseClient._make_api_call = original


def bill(
    log: CallLog, *, api_requests: int = 0, lambda_invocations: int = 0, sns_deliveries_to_sqs: int = 0
) -> dict[str, float]:
    """Billed units and dollars for what `log` recorded plus the calls no client here made."""
    sns = sum(n for (service, _), n in log.chunks.items() if service == "sns")
    sqs = sum(n for (service, _), n in log.chunks.items() if service == "sqs") + sns_deliveries_to_sqs
    s3_put = sum(n for (service, op), n in log.calls.items() if service == "s3" and op in S3_PUT_CLASS)
    s3_get = sum(n for (service, op), n in log.calls.items() if service == "s3" and op in S3_GET_CLASS)
    units = {
        "sns_request": float(sns),
        "sqs_request": float(sqs),
        "s3_put": float(s3_put),
        "s3_get": float(s3_get),
        "dynamodb_wru": log.dynamodb_write_units,
        "dynamodb_rru": log.dynamodb_read_units,
        "api_request": float(api_requests),
        "lambda_invocation": float(lambda_invocations),
    }
    units["dollars"] = sum(units[k] * PRICES[k] for k in PRICES)
    return units

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
  (strongly consistent; half for eventually consistent).
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


def _item_units(params: dict[str, Any], operation: str) -> float:
    """DynamoDB request units of a write or read call, from the sizes of the items it carries."""
    if operation == "PutItem":
        return max(1, math.ceil(len(json.dumps(params.get("Item", {})).encode()) / 1024))
    if operation in ("UpdateItem", "DeleteItem"):
        return 1  # the item's size after the write decides; these are small ledger/marker items
    if operation == "BatchWriteItem":
        items = [r for rs in params.get("RequestItems", {}).values() for r in rs]
        return sum(max(1, math.ceil(len(json.dumps(r).encode()) / 1024)) for r in items)
    if operation == "GetItem":
        return 1 if params.get("ConsistentRead") else 0.5
    if operation == "BatchGetItem":
        return sum(len(t.get("Keys", [])) * 0.5 for t in params.get("RequestItems", {}).values())
    if operation == "TransactWriteItems":
        return 2 * len(params.get("TransactItems", []))
    return 0


@dataclass
class CallLog:
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    chunks: Counter[tuple[str, str]] = field(default_factory=Counter)
    dynamodb_write_units: float = 0.0
    dynamodb_read_units: float = 0.0
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

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if self._paused:
            return
        with self._lock:
            self.calls[(service, operation)] += 1
            self.chunks[(service, operation)] += max(1, math.ceil(_payload_bytes(operation, params) / CHUNK))
            if service == "dynamodb":
                units = _item_units(params, operation)
                if operation in ("GetItem", "BatchGetItem", "Query", "Scan"):
                    self.dynamodb_read_units += units
                else:
                    self.dynamodb_write_units += units


@contextmanager
def counting_calls() -> Iterator[CallLog]:
    """Record every AWS API call made in this process while the block runs."""
    log = CallLog()
    original = BaseClient._make_api_call

    def counted(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        log.record(self.meta.service_model.service_name, operation_name, api_params)
        return original(self, operation_name, api_params)

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

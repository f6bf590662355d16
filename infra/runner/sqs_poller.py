"""Lambda's SQS event-source mapping, locally: poll, batch, invoke, delete what succeeded.

- Batches up to the template's `BatchSize`, waiting at most `MaximumBatchingWindowInSeconds`.
- With `ReportBatchItemFailures`, only records named in `batchItemFailures` stay on the queue; an
  invalid failure list fails the whole batch, as on AWS. Without it, any error keeps the whole batch.
- Records left on the queue reappear after the queue's visibility timeout, and the queue's own redrive
  policy moves them to the DLQ after `maxReceiveCount` receives: the emulator enforces both, as SQS does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from commerce_ai import aws
from infra.runner.invoker import InvocationError, Invoke

log = logging.getLogger("commerce_ai.runner")


def _message_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    converted = {}
    for name, value in (raw or {}).items():
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return converted


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": _message_attributes(m.get("MessageAttributes", {})),
                "md5OfBody": m.get("MD5OfBody"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def failed_ids(result: Any, batch_ids: set[str]) -> set[str]:
    """Message ids to keep on the queue after a ReportBatchItemFailures response."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(batch_ids)
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(batch_ids)
    ids = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in batch_ids:
            return set(batch_ids)  # AWS treats a malformed failure report as a failed batch
        ids.add(identifier)
    return ids


@dataclass
class QueueSource:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    window_seconds: float = 0.0
    report_failures: bool = False
    region: str = "us-east-1"
    transform: Callable[[list[dict[str, Any]], str, str], dict[str, Any]] = sqs_event
    stats: dict[str, int] = field(default_factory=lambda: {"batches": 0, "records": 0, "failed": 0})

    def receive_batch(self, stop: threading.Event, wait_seconds: int = 1) -> list[dict[str, Any]]:
        sqs = aws.client("sqs")
        batch: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.window_seconds
        while len(batch) < self.batch_size and not stop.is_set():
            response = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(batch)),
                WaitTimeSeconds=wait_seconds if not batch else 0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            batch.extend(messages)
            if not messages or time.monotonic() >= deadline:
                break
        return batch

    def process(self, batch: list[dict[str, Any]], invoke: Invoke) -> set[str]:
        """Invoke once for `batch`, delete the records that succeeded, return the ids kept for retry."""
        ids = {m["MessageId"] for m in batch}
        try:
            result = invoke(self.function, self.transform(batch, self.queue_arn, self.region))
            kept = failed_ids(result, ids) if self.report_failures else set()
        except InvocationError:
            kept = ids
        done = [m for m in batch if m["MessageId"] not in kept]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            for start in range(0, len(entries), 10):
                response = aws.client("sqs").delete_message_batch(
                    QueueUrl=self.queue_url, Entries=entries[start : start + 10]
                )
                for failed in response.get("Failed", []):  # it will be redelivered: say so, as Lambda's logs would
                    log.warning("could not delete a processed message from %s: %s", self.queue_url, failed)
        self.stats["batches"] += 1
        self.stats["records"] += len(batch)
        self.stats["failed"] += len(kept)
        return kept

    def poll_once(self, invoke: Invoke, stop: threading.Event | None = None, wait_seconds: int = 1) -> int:
        batch = self.receive_batch(stop or threading.Event(), wait_seconds)
        if batch:
            self.process(batch, invoke)
        return len(batch)


def s3_event_from_messages(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Unwrap S3 notifications that went to a delivery queue into the S3 event Lambda receives."""
    records: list[dict[str, Any]] = []
    for message in messages:
        body = json.loads(message["Body"])
        records.extend(body.get("Records", []))  # s3:TestEvent has none
    return {"Records": records}


def run_forever(source: QueueSource, invoke: Invoke, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            source.poll_once(invoke, stop)
        except Exception:  # the emulator restarting or a network blip: back off, keep polling
            log.warning("polling %s failed; retrying in 2 s", source.queue_url, exc_info=True)
            if stop.wait(2):
                return

"""SQS handler: `BehaviourArchiveQueue` (subscribed to the topic) -> the event archive in S3.

Each batch becomes one gzip JSON-lines object per event date, `events/dt=YYYY-MM-DD/<hash of the event
ids>.jsonl.gz` (see `commerce_ai.stream.archive`). Invalid records fail alone (partial batch response,
then the DLQ); a failed write fails the batch, and its redelivery writes the same names again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor
from commerce_ai.stream import settings
from commerce_ai.stream.archive import EventArchive
from commerce_ai.stream.consumer import parse_event
from commerce_ai.stream.schema import BehaviourEvent
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> BehaviourEvent:
    return parse_event(record.body)


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    with processor(records=event["Records"], handler=record_handler, lambda_context=context):
        outcomes = processor.process()
    events = [result for status, result, _ in outcomes if status == "success"]
    if events:
        keys = EventArchive(settings.archive_bucket()).write(events)
        logger.info("archived behaviour events", extra={"events": len(events), "objects": len(keys)})
    return processor.response()

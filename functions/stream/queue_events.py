"""SQS handler: `BehaviourEventsQueue`, the door for producers that already send to a queue.

Each record's body is one behaviour event, validated as `POST /events` validates it, then published to
the topic. An invalid record is logged (error type and field names, never values) and reported as a
partial batch failure, so it reaches `BehaviourEventsDLQ` after the queue's maxReceiveCount; a publish
that fails keeps its record for a retry. Re-publishing an event is harmless: consumers apply an event
id once. An event whose id was taken in before for a different event fails its record (KeyReused) and
reaches the DLQ, as `POST /events` answers it with a 409 (`commerce_ai.stream.ingest.IdClaims`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor
from commerce_ai.stream.consumer import parse_event
from commerce_ai.stream.ingest import IdClaims, Publisher
from commerce_ai.telemetry import instrumented

processor = QueueProcessor()
publisher = Publisher()
claims = IdClaims()


def record_handler(record: SQSRecord) -> None:
    event = parse_event(record.body)
    claims.claim([event])
    publisher.publish_one(event)


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

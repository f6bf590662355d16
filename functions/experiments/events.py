"""SQS handler: behaviour events -> experiment exposures and outcomes (see commerce_ai.experiments.counting).

Each record's body is one BehaviourEvent as JSON (raw SNS delivery). An invalid record fails alone
(partial batch response) and reaches the DLQ after the queue's maxReceiveCount; a redelivered event
counts once (the store's conditional transactions).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.experiments import service
from commerce_ai.messages import QueueProcessor, parse_json
from commerce_ai.stream.schema import BehaviourEvent
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> None:
    event = parse_json(record.body, BehaviourEvent, "behaviour event")
    applied = service.count([event], datetime.now(UTC))
    logger.info("behaviour event counted", extra={"event_type": event.event_type, **vars(applied)})


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""SQS handler: login and account events -> the velocity state (failed logins, sessions, known devices).

Each record is validated on its own; an invalid one fails alone (partial batch response) and reaches the
DLQ after the queue's maxReceiveCount. A record is applied once: its `event_id`, or else the SQS message
id (the same on every redelivery; for a message redriven from the DLQ as a new one, its first id, which
`commerce-ai redrive` carries in the `redriven_from` attribute), is claimed with the event's effect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor, first_message_id, parse_json
from commerce_ai.risk import service
from commerce_ai.risk.schemas import AccountEvent
from commerce_ai.risk.scoring import record_account_event
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> bool:
    event = parse_json(record.body, AccountEvent, "account event")
    applied = record_account_event(
        event, service.store(), datetime.now(UTC), event.event_id or first_message_id(record)
    )
    logger.info("account event", extra={"event_type": event.event_type, "applied": applied})
    return applied


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

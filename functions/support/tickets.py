"""SQS handler: hand-off tickets from the bot onto the agents' queue, recorded in SupportTicketsTable.

Each record fails alone (partial batch response; a poison record reaches the DLQ after 3 receives). A
redelivered ticket finds itself recorded and changes nothing (conditional put on `ticket_id`). A ticket of
a user erased after it was queued (`DELETE /users/{user_id}` while it was in flight) is dropped, so the
erasure is not undone by a message on the queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.erasure import ErasureLog
from commerce_ai.messages import QueueProcessor, parse_json
from commerce_ai.support.contract import TicketMessage
from commerce_ai.support.store import Tickets
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> bool:
    ticket = parse_json(record.body, TicketMessage, "ticket")
    document = ticket.model_dump(mode="json")
    created = datetime.fromisoformat(ticket.created_at.replace("Z", "+00:00"))
    erased_at = ErasureLog.from_settings().erased_at(ticket.user_id)
    if erased_at is not None and created <= erased_at:
        logger.info("hand-off ticket of an erased user dropped", extra={"ticket_id": ticket.ticket_id})
        return False
    recorded = Tickets.from_settings().open(document, created)
    logger.info("hand-off ticket", extra={"ticket_id": ticket.ticket_id, "recorded": recorded, "reason": ticket.reason})
    return recorded


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""SQS handler: asynchronous bulk scoring of the same transaction shape as `POST /risk/score`.

Results go to the results table; review and decline decisions also go to the outcomes queue. Each
record fails alone (partial batch response; poison records reach the DLQ). Redelivery is idempotent by
`transaction_id`: the first result is kept, velocity counts once, and an outcome already sent is not
sent again. A different transaction under an id already scored fails its record (409, KeyReused), which
reaches the DLQ: its id must change, so retrying cannot help.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor, parse_json
from commerce_ai.risk import service
from commerce_ai.risk.schemas import Transaction
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> str:
    transaction = parse_json(record.body, Transaction, "transaction")
    scored = service.score(transaction, datetime.now(UTC), "queue")
    service.publish_outcome(scored)
    logger.info("transaction scored", extra={"decision": scored.decision, "replayed": scored.replayed})
    return scored.decision


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

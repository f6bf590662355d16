"""SQS handler: competitor price observations -> latest price per competitor, a price history, and the
SKU's competitor index on its catalog entry.

Each record is validated on its own; an invalid one fails alone (partial batch response) and reaches the
DLQ after the queue's maxReceiveCount. Storage is idempotent, so redelivery is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor
from commerce_ai.pricing import service
from commerce_ai.pricing.observations import Outcome, parse_competitor_price
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> Outcome:
    now = datetime.now(UTC)
    observation = parse_competitor_price(record.body, now)
    outcome = service.record_competitor_price(observation, now)
    logger.info(
        "competitor price recorded",
        extra={"sku": observation.sku, "competitor": observation.competitor, "outcome": outcome},
    )
    return outcome


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""SQS handler: competitor price observations -> latest price per competitor and a price history.

Each record is validated on its own; an invalid one fails alone (partial batch response) and reaches the
DLQ after the queue's maxReceiveCount. Storage is idempotent, so redelivery is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.config import settings
from commerce_ai.pricing.observations import CompetitorPriceStore, Outcome, parse_competitor_price
from commerce_ai.telemetry import instrumented, logger

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> Outcome:
    observation = parse_competitor_price(record.body, datetime.now(UTC))
    outcome = CompetitorPriceStore(settings().need("pricing_table")).record(observation)
    logger.info(
        "competitor price recorded",
        extra={"sku": observation.sku, "competitor": observation.competitor, "outcome": outcome},
    )
    return outcome


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

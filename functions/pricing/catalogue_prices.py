"""SQS handler: pricing's price changes (PriceChangesTopic, raw delivery) copied into the shop catalogue's
`price`, one event a record (see `commerce_ai.pricing.catalogue_prices`). Each record fails alone: one
whose item holds another price is retried, then waits in the DLQ."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.catalog.store import Catalog
from commerce_ai.messages import QueueProcessor
from commerce_ai.pricing.catalogue_prices import PriceDisagrees, apply_price_change
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor(expected_failures=(PriceDisagrees,))


def record_handler(record: SQSRecord) -> str:
    outcome = apply_price_change(Catalog.from_settings(), record.body, datetime.now(UTC))
    logger.info("price change copied to the catalogue", extra={"outcome": outcome})
    return outcome


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

"""SQS handler: one chunk of a forecast job per record (see `commerce_ai.forecasting.jobs`). Each record
fails alone (partial batch response): a chunk that does not parse reaches the DLQ after 3 receives, a
redelivered one rewrites the same forecasts and is counted done once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.forecasting import service
from commerce_ai.messages import QueueProcessor
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> dict[str, Any]:
    outcome = service.run_chunk(record.body)
    logger.info("forecast chunk done", extra=outcome)
    return outcome


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

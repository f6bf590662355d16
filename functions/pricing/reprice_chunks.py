"""Repricing worker: one chunk of a scaled-out tick per record (see `commerce_ai.pricing.tick_chunks`).
Each record fails alone (partial batch response); a redelivered chunk applies nothing twice and publishes
no event twice, and is counted on its tick once; after its last attempt it is counted failed and its
message goes to RepriceChunksDLQ, from which a redrive runs it again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor
from commerce_ai.pricing import service
from commerce_ai.pricing.tick_log import OUTCOMES
from commerce_ai.telemetry import instrumented, logger, metrics

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> dict[str, Any] | None:
    attempt = int(record.attributes.approximate_receive_count or 1)
    summary = service.run_chunk(record.body, datetime.now(UTC), attempt)
    if summary is None:
        return None  # counted when it ran
    for outcome in OUTCOMES:
        metrics.add_metric(name=f"Repricing{outcome.capitalize()}", unit=MetricUnit.Count, value=summary[outcome])
    logger.info("reprice chunk done", extra=summary)
    return summary


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

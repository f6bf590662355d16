"""Batch scoring (commerce_ai.propensity.batch): SQS requests naming a segment, and the daily schedule.

SQS (`PropensityBatchScoringQueue`): each record is a `BatchRequest` (`{"job_id", "horizon", "user_ids"}`
or `{"job_id", "horizon", "active_days"}`); it fails alone (partial batch response; an invalid one, or a
job id reused for another request, reaches the DLQ), and a redelivered request whose job is done changes
nothing. Schedule (daily): scores every user active in the last 30 days and publishes `high_intent`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.errors import InvalidInput
from commerce_ai.messages import QueueProcessor, parse_json
from commerce_ai.propensity import service
from commerce_ai.propensity.batch import BatchRequest
from commerce_ai.telemetry import instrumented, logger

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> str:
    request = parse_json(record.body, BatchRequest, "batch-scoring request")
    result = service.run_batch(request, datetime.now(UTC))
    logger.info("batch scored", extra={"users": result.users, "known": result.known, "replayed": result.replayed})
    return result.status


@instrumented
def handler(event: dict[str, Any], context: Any) -> Any:
    if "Records" in event:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    if event.get("source") != "aws.events":
        raise InvalidInput("expected an SQS batch or the daily schedule event")
    result = service.run_batch(service.daily_request(datetime.now(UTC)), datetime.now(UTC), daily=True)
    logger.info("daily scoring done", extra={"users": result.users, "high_intent": result.high_intent})
    return {"job_id": result.job_id, "status": result.status, "users": result.users, "high_intent": result.high_intent}

"""Repricing planner (see `commerce_ai.pricing.tick_chunks`): it plans a whole-catalog tick and queues
its chunks on RepriceChunksQueue, which RepriceChunkFunction decides and writes. Two triggers:

- the 15-minute schedule: the tick is named by the event's scheduled `time`, so a retried invocation of
  the same event is the same tick and applies nothing twice;
- the reprice queue: a whole-catalog reprice an admin asked for (`POST /pricing/reprice` without `skus`),
  named when it was asked for, so a redelivered request applies nothing twice either. A request that
  does not parse, or a plan that fails, fails its record (retried, then the DLQ).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.messages import QueueProcessor
from commerce_ai.pricing import service
from commerce_ai.pricing.ticks import tick_stamp
from commerce_ai.telemetry import instrumented, logger, metrics

processor = QueueProcessor()


SCHEDULE_EVENT_KEYS = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def scheduled_time(event: dict[str, Any]) -> datetime:
    unexpected = set(event) - SCHEDULE_EVENT_KEYS
    if unexpected:  # e.g. a reprice request's body sent straight to the function: it must not reprice "now"
        raise ValueError(
            f"not a schedule event (unexpected {sorted(unexpected)}); a reprice request goes to RepriceRequestsQueue"
        )
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)  # invoked by hand without a schedule event: a tick named "now"


def reported(plan: dict[str, Any]) -> dict[str, Any]:
    metrics.add_metric(name="RepricingChunksQueued", unit=MetricUnit.Count, value=plan["chunks"])
    logger.info("repricing tick planned", extra=plan)
    return plan


def requested_tick(record: SQSRecord) -> dict[str, Any] | None:
    attempt = int(record.attributes.approximate_receive_count or 1)
    plan = service.run_requested(record.body, datetime.now(UTC), attempt)
    return reported(plan) if plan is not None else None  # already planned: its chunks are on their way


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return dict(
            process_partial_response(event=event, record_handler=requested_tick, processor=processor, context=context)
        )
    moment = scheduled_time(event)
    return reported(service.plan_tick(datetime.now(UTC), tick_stamp(moment), source="schedule"))

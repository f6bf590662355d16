"""Schedule handler, every 15 minutes: reprice the whole catalog (see `commerce_ai.pricing.ticks`).

The tick is named by the event's scheduled `time`, so a retried invocation of the same event is the same
tick and applies nothing twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from commerce_ai.pricing import service
from commerce_ai.pricing.ticks import tick_stamp
from commerce_ai.telemetry import instrumented, logger, metrics


def scheduled_time(event: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)  # invoked by hand without a schedule event: a tick named "now"


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    moment = scheduled_time(event)
    report = service.reprice_now(datetime.now(UTC), tick_stamp(moment))
    summary = report.summary()
    for outcome in ("applied", "kept", "blocked", "failed", "superseded"):
        metrics.add_metric(name=f"Repricing{outcome.capitalize()}", unit=MetricUnit.Count, value=summary[outcome])
    logger.info("repricing tick finished", extra=summary)
    return summary

"""The daily forecast run (EventBridge schedule): every SKU with a history, queued in chunks of 100 to
ForecastChunksQueue under one job named by the schedule's time (see `commerce_ai.forecasting.jobs`). A
retried event is the same job: its status is kept and its chunks, queued again, are counted once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_ai.forecasting import service
from commerce_ai.telemetry import instrumented, logger


def scheduled_time(event: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)  # invoked by hand without a schedule event: a job named "now"


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    summary = service.start_daily(scheduled_time(event))
    logger.info("daily forecast queued", extra=summary)
    return summary

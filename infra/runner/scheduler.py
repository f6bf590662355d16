"""EventBridge schedules, locally: fire `rate(...)` expressions, optionally on a faster clock."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


class ScheduleError(ValueError):
    pass


def rate_seconds(expression: str) -> int:
    """Seconds between firings of an EventBridge `rate(value unit)` expression.

    EventBridge wants the singular unit for 1 and the plural otherwise; so do we, so a template that
    works here is not rejected on deploy. `cron(...)` is not run locally.
    """
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ScheduleError(f"{expression!r} is not a rate(value unit) expression the local runner can run")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ScheduleError(f"{expression!r}: the value must be positive")
    if (value == 1) != (not unit.endswith("s")):
        raise ScheduleError(f"{expression!r}: use a singular unit for 1 and plural otherwise")
    return value * _UNITS[unit]


def scheduled_event(rule_arn: str, region: str = "us-east-1", account: str = "123456789012") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def run_schedule(
    function: str,
    interval_seconds: float,
    fire: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Fire every `interval_seconds`, first one interval after start, as a new EventBridge rule does."""
    while not stop.wait(interval_seconds):
        try:
            fire(function)
        except Exception:  # an invocation error is the function's; the schedule keeps its beat
            continue


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's asynchronous invocation settings (SAM's `EventInvokeConfig`), Lambda's defaults if absent."""

    retries: int = 2
    max_age_seconds: int = 21600
    on_failure_queue: str | None = None  # the destination queue's ARN

    @classmethod
    def of(cls, properties: dict[str, Any], resolve: Callable[[Any], Any]) -> AsyncInvokeConfig:
        config = properties.get("EventInvokeConfig") or {}
        failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        if failure and failure.get("Type") != "SQS":
            raise ScheduleError(f"on-failure destination type {failure.get('Type')} is not run locally (SQS is)")
        return cls(
            retries=int(config.get("MaximumRetryAttempts", 2)),
            max_age_seconds=int(config.get("MaximumEventAgeInSeconds", 21600)),
            on_failure_queue=str(resolve(failure["Destination"])) if failure else None,
        )


def invoke_asynchronously(
    invoke: Callable[[dict[str, Any]], Any],
    event: dict[str, Any],
    config: AsyncInvokeConfig,
    function_arn: str,
    send_failure: Callable[[str, dict[str, Any]], None],
) -> Any:
    """Lambda's asynchronous invocation, locally: the event and `config.retries` retries (at once, where
    Lambda waits a minute, then two); when all fail, the on-failure record Lambda sends goes to the
    destination queue, and the last error is raised. Events do not age here: each is retried at once."""
    for attempt in range(1, config.retries + 2):
        try:
            return invoke(event)
        except Exception as exc:
            if attempt <= config.retries:
                continue
            if config.on_failure_queue is not None:
                send_failure(config.on_failure_queue, failure_record(event, function_arn, attempt, exc))
            raise


def failure_record(event: dict[str, Any], function_arn: str, attempts: int, error: Exception) -> dict[str, Any]:
    """The record Lambda sends to an on-failure destination (its documented shape)."""
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
    }

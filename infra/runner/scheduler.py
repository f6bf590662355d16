"""EventBridge schedules, locally: fire `rate(...)` expressions, optionally on a faster clock."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
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

"""Structured logs, EMF metrics and per-function health heartbeats, shared by every handler.

Logs are Powertools JSON with a correlation id taken from the request or message. Every invocation
emits `Invocations`, `Latency` and, on failure, `Errors` (EMF, namespace POWERTOOLS_METRICS_NAMESPACE).
Log only identifiers and outcomes here: request bodies may hold personal data and never reach a log.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from commerce_ai import health
from commerce_ai.health import function_name

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "commerce-ai"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "CommerceAI"))

Handler = Callable[[dict[str, Any], Any], Any]


def record_invocation(started: float, ok: bool, error: BaseException | None = None, **counts: int) -> None:
    """Emit this invocation's metrics and heartbeat. Never raises: telemetry must not fail a request."""
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    try:
        metrics.add_dimension(name="function", value=function_name())
        metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        if not ok:
            metrics.add_metric(name="Errors", unit=MetricUnit.Count, value=1)
        for metric_name, value in counts.items():
            metrics.add_metric(name=metric_name, unit=MetricUnit.Count, value=value)
        metrics.flush_metrics()
    except Exception:
        logger.exception("metrics flush failed")
    health.reporter().invocation(ok=ok, error=error)


def correlation_id_of(event: dict[str, Any]) -> str | None:
    """A request id from an API Gateway event, the first message id of a batch, or a schedule event id."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    if headers.get("x-correlation-id"):
        return str(headers["x-correlation-id"])[:128]
    context = event.get("requestContext") or {}
    if context.get("requestId"):
        return str(context["requestId"])
    records = event.get("Records") or []
    if records and isinstance(records[0], dict):
        return records[0].get("messageId") or records[0].get("responseElements", {}).get("x-amz-request-id")
    return event.get("id")


def instrumented(handler: Handler) -> Handler:
    """Wrap a non-HTTP handler (queue, schedule, S3) with context logging, correlation id and metrics."""

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        started = time.perf_counter()
        logger.set_correlation_id(correlation_id_of(event) or getattr(context, "aws_request_id", None))
        try:
            result = handler(event, context)
        except BaseException as exc:
            record_invocation(started, ok=False, error=exc)
            raise
        failures = len(result.get("batchItemFailures", [])) if isinstance(result, dict) else 0
        record_invocation(started, ok=True, RecordFailures=failures)
        return result

    return logger.inject_lambda_context(wrapper, clear_state=True)

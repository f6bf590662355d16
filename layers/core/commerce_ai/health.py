"""Per-function health: each function writes a throttled heartbeat; `GET /health` reads them all.

A heartbeat is written on a function's first invocation, at most every HEARTBEAT_SECONDS after that,
and at once whenever the outcome flips between ok and failing, so a breakage shows without delay while a
busy function costs one DynamoDB write a minute. Only error *types* are stored, never messages, which
could carry request data.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from commerce_ai import aws
from commerce_ai.clock import utc_now
from commerce_ai.config import settings

# The standard logger, not telemetry's: telemetry records invocations here, so importing it back would be a cycle.
_log = logging.getLogger(__name__)


@dataclass
class HealthReporter:
    table: str | None
    function: str
    interval: float
    invocations: int = 0
    errors: int = 0
    last_ok: bool | None = None
    last_written: float | None = None
    last_ok_at: str | None = None
    last_error_at: str | None = None
    last_error_type: str | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.cold_start_at = utc_now()

    def invocation(self, ok: bool, error: BaseException | None = None) -> None:
        with self._lock:
            self.invocations += 1
            now_iso = utc_now()
            if ok:
                self.last_ok_at = now_iso
            else:
                self.errors += 1
                self.last_error_at = now_iso
                self.last_error_type = type(error).__name__ if error else "Error"
            flipped = self.last_ok is not None and self.last_ok != ok
            self.last_ok = ok
            due = self.last_written is None or time.monotonic() - self.last_written >= self.interval
            if self.table and (due or flipped):
                self.last_written = time.monotonic()
                self._write()

    def _write(self) -> None:
        item: dict[str, Any] = {
            "function": {"S": self.function},
            "updated_at": {"S": utc_now()},
            "cold_start_at": {"S": self.cold_start_at},
            "invocations": {"N": str(self.invocations)},
            "errors": {"N": str(self.errors)},
            "last_ok": {"BOOL": bool(self.last_ok)},
        }
        for key in ("last_ok_at", "last_error_at", "last_error_type"):
            value = getattr(self, key)
            if value:
                item[key] = {"S": value}
        try:
            aws.client("dynamodb").put_item(TableName=self.table, Item=item)
        except Exception:  # health must never break the function it describes
            _log.warning("heartbeat write failed", exc_info=True)


_reporter: HealthReporter | None = None


def reporter() -> HealthReporter:
    global _reporter
    if _reporter is None:
        config = settings()
        _reporter = HealthReporter(
            table=config.health_table,
            function=function_name(),
            interval=config.heartbeat_seconds,
        )
    return _reporter


def function_name() -> str:
    return os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")


def read_all(table: str, stale_after_seconds: float = 86_400) -> list[dict[str, Any]]:
    """Every function's last heartbeat with a derived status: ok, failing or stale."""
    items: list[dict[str, Any]] = []
    paginator = aws.client("dynamodb").get_paginator("scan")
    for page in paginator.paginate(TableName=table):
        items.extend(page.get("Items", []))
    now = datetime.now(UTC)
    report = []
    for item in sorted(items, key=lambda i: i["function"]["S"]):
        updated = datetime.fromisoformat(item["updated_at"]["S"])
        if not item["last_ok"]["BOOL"]:
            status = "failing"
        elif (now - updated).total_seconds() > stale_after_seconds:
            status = "stale"
        else:
            status = "ok"
        report.append(
            {
                "function": item["function"]["S"],
                "status": status,
                "updated_at": item["updated_at"]["S"],
                "cold_start_at": item["cold_start_at"]["S"],
                "invocations": int(item["invocations"]["N"]),
                "errors": int(item["errors"]["N"]),
                "last_ok_at": item.get("last_ok_at", {}).get("S"),
                "last_error_at": item.get("last_error_at", {}).get("S"),
                "last_error_type": item.get("last_error_type", {}).get("S"),
            }
        )
    return report

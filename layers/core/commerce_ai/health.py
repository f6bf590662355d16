"""Per-function health: each function writes a throttled heartbeat; `GET /health` reads them all.

A heartbeat is written on a function's first invocation, at most every HEARTBEAT_SECONDS after that,
and at once whenever the outcome flips between ok and failing, so a breakage shows without delay while a
busy function costs one DynamoDB write a minute. Only error *types* are stored, never messages, which
could carry request data.

Counters are written as deltas (DynamoDB `ADD` of what this container counted since its last write), so
several warm containers of one function add up instead of overwriting each other's totals.

A start-up in progress (`commerce-ai up` building and seeding) is one item, `STARTUP_ITEM`, that names
what it is still waiting for; `GET /health` answers 503 while it exists. Deployed on AWS nobody writes it,
so no item means no start-up in progress.
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


# Not a function name (those come from the template): the key of the start-up item.
STARTUP_ITEM = "#startup"


@dataclass
class HealthReporter:
    table: str | None
    function: str
    interval: float
    invocations: int = 0
    errors: int = 0
    # Counted here but not yet added to the table (kept after a failed write, so nothing is lost).
    unwritten_invocations: int = 0
    unwritten_errors: int = 0
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
            self.unwritten_invocations += 1
            now_iso = utc_now()
            if ok:
                self.last_ok_at = now_iso
            else:
                self.errors += 1
                self.unwritten_errors += 1
                self.last_error_at = now_iso
                self.last_error_type = type(error).__name__ if error else "Error"
            flipped = self.last_ok is not None and self.last_ok != ok
            self.last_ok = ok
            due = self.last_written is None or time.monotonic() - self.last_written >= self.interval
            if self.table and (due or flipped):
                self.last_written = time.monotonic()
                self._write()

    def _write(self) -> None:
        values: dict[str, Any] = {
            ":updated_at": {"S": utc_now()},
            ":cold_start_at": {"S": self.cold_start_at},
            ":last_ok": {"BOOL": bool(self.last_ok)},
            ":invocations": {"N": str(self.unwritten_invocations)},
            ":errors": {"N": str(self.unwritten_errors)},
        }
        assignments = ["updated_at = :updated_at", "cold_start_at = :cold_start_at", "last_ok = :last_ok"]
        for key in ("last_ok_at", "last_error_at", "last_error_type"):
            value = getattr(self, key)
            if value:
                assignments.append(f"{key} = :{key}")
                values[f":{key}"] = {"S": value}
        try:
            aws.client("dynamodb").update_item(
                TableName=self.table,
                Key={"function": {"S": self.function}},
                # ADD starts a missing counter at 0; other containers' deltas add to the same total.
                UpdateExpression=f"SET {', '.join(assignments)} ADD invocations :invocations, errors :errors",
                ExpressionAttributeValues=values,
            )
        except Exception:  # health must never break the function it describes
            _log.warning("heartbeat write failed", exc_info=True)
            return
        self.unwritten_invocations = 0
        self.unwritten_errors = 0


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
        items.extend(i for i in page.get("Items", []) if i["function"]["S"] != STARTUP_ITEM)
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


# -------------------------------------------------------------------------------------------- start-up


def set_startup(table: str, waiting_for: list[str]) -> None:
    """Record what a start-up still waits for; an empty list ends it (the item is deleted)."""
    dynamodb = aws.client("dynamodb")
    key = {"function": {"S": STARTUP_ITEM}}
    if not waiting_for:
        dynamodb.delete_item(TableName=table, Key=key)
        return
    dynamodb.put_item(
        TableName=table,
        Item={**key, "updated_at": {"S": utc_now()}, "waiting_for": {"L": [{"S": w} for w in waiting_for]}},
    )


def startup_waiting_for(table: str) -> list[str] | None:
    """What a start-up in progress still waits for, or None when no start-up is in progress."""
    item = aws.client("dynamodb").get_item(TableName=table, Key={"function": {"S": STARTUP_ITEM}}, ConsistentRead=True)
    if "Item" not in item:
        return None
    return [w["S"] for w in item["Item"].get("waiting_for", {}).get("L", [])]

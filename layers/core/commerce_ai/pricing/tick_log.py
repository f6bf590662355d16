"""What became of each repricing tick: one status item per tick in the pricing table, under the
partition `#ticks` (no SKU can be named so: a SKU starts with a letter or digit), newest first by name.

A writing tick is recorded `running` when it starts and `done` with its summary (or `failed` with the
error) when it finishes. A whole-catalog admin reprice runs in the background (it can outlast API
Gateway's 29 s): it is recorded `queued` when asked for, then the worker takes it from there, so
`GET /pricing/ticks/{tick}` tells the admin how it went.

A tick whose function is stopped from outside (its timeout, a dead container) cannot record its end, so
its status would say `running` for good. `TickStatus.as_of` reads such a stale `running` for what it is:
`queued` again while the reprice queue will redeliver the request, `failed` once no attempt is left (a
scheduled tick is never retried). Statuses expire after `RETENTION` (DynamoDB TTL); the decisions
themselves are in the SKUs' histories.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from commerce_ai import aws
from commerce_ai.errors import NotFound
from commerce_ai.pricing.decisions import newest_first

PARTITION = "#ticks"
PREFIX = "tick#"
RETENTION = timedelta(days=90)
MAX_TICKS_PAGE = 100
TICK_NAME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"  # ticks.tick_stamp's format
# RepricingFunction's Timeout and RepriceRequestsQueue's maxReceiveCount in template.yaml (a test keeps
# them in step): past the one a run is over, and after the other the request is in the DLQ.
RUN_TIMEOUT = timedelta(seconds=600)
REQUEST_ATTEMPTS = 3
State = Literal["queued", "running", "done", "failed"]
Source = Literal["schedule", "admin"]


def is_tick_name(name: str) -> bool:
    """Whether `name` is in ticks.tick_stamp's format and names a real moment (no month 13)."""
    if not re.fullmatch(TICK_NAME, name):
        return False
    try:
        datetime.fromisoformat(name.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _tick_name(name: str) -> str:
    if not is_tick_name(name):
        raise ValueError("a tick is named by its UTC time to the millisecond, like 2026-11-28T12:15:00.000Z")
    return name


TickName = Annotated[str, AfterValidator(_tick_name)]


class TickStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tick: TickName
    state: State
    source: Source
    updated_at: datetime
    summary: dict[str, Any] | None = None  # TickReport.summary() once done
    error: str | None = None  # what stopped a failed tick (its type and message, never input values)
    attempt: int | None = None  # which delivery of a queued request is (or was last) running

    def as_of(self, now: datetime) -> TickStatus:
        """This status as it stands at `now`: a `running` older than the function's timeout did not finish."""
        if self.state != "running" or now - self.updated_at <= RUN_TIMEOUT:
            return self
        attempt = self.attempt or 1
        stopped = (
            f"attempt {attempt} stopped without an outcome (past RepricingFunction's "
            f"{RUN_TIMEOUT.total_seconds():.0f} s timeout, or its container died)"
        )
        if self.source == "admin" and attempt < REQUEST_ATTEMPTS:
            retry = f"; the reprice queue delivers it again (attempt {attempt + 1} of {REQUEST_ATTEMPTS})"
            return self.model_copy(update={"state": "queued", "error": stopped + retry})
        final = "; no attempt is left" if self.source == "admin" else "; a scheduled tick is not retried"
        return self.model_copy(update={"state": "failed", "error": stopped + final})


class RepriceRequest(BaseModel):
    """The message a whole-catalog admin reprice puts on the reprice queue."""

    model_config = ConfigDict(extra="forbid")

    tick: TickName


class TickLog:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def _item(self, status: TickStatus) -> dict[str, Any]:
        return {
            "sku": {"S": PARTITION},
            "item": {"S": PREFIX + status.tick},
            "status": {"S": status.model_dump_json(exclude_none=True)},
            "expires_at": {"N": str(int((status.updated_at + RETENTION).timestamp()))},
        }

    def record(self, status: TickStatus) -> None:
        self.ddb.put_item(TableName=self.table, Item=self._item(status))

    def record_new(self, status: TickStatus) -> bool:
        """Record a status for a tick name not seen before; False if that name is taken."""
        return aws.put_if(
            self.ddb,
            TableName=self.table,
            Item=self._item(status),
            ConditionExpression="attribute_not_exists(#item)",
            ExpressionAttributeNames={"#item": "item"},
        )

    def find(self, tick: str) -> TickStatus | None:
        key = {"sku": {"S": PARTITION}, "item": {"S": PREFIX + tick}}
        item = self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return TickStatus.model_validate(json.loads(item["status"]["S"])) if item else None

    def get(self, tick: str) -> TickStatus:
        found = self.find(tick)
        if found is None:
            raise NotFound(f"no tick named {tick!r} is recorded")
        return found

    def recent(self, limit: int, cursor: str | None) -> tuple[list[TickStatus], str | None]:
        """Newest first, paged."""
        items, after = newest_first(self.ddb, self.table, PARTITION, PREFIX, limit, cursor, MAX_TICKS_PAGE)
        return [TickStatus.model_validate(json.loads(i["status"]["S"])) for i in items], after

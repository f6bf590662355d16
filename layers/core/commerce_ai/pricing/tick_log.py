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

A whole-catalog tick scales out (`commerce_ai.pricing.tick_chunks`): its status item also counts its
chunks, as numbers beside the status (`chunks` once planned, `chunks_done`, `chunks_failed`, and each
outcome's SKUs), which the chunk workers add to. A chunk is counted once: one conditional UpdateItem of the
status adds the chunk's number to the set of chunks done (`done_chunks`, or `failed_chunks` after its last
attempt failed) together with its counts, on condition the number is in neither set, so a redelivered
chunk changes nothing; a chunk that failed its last attempt (then the DLQ) moves from failed to done when
a redrive runs it. Such a tick is `running` until every chunk is counted, then `done` (or `failed` naming
how many chunks failed).

Why one update of the status rather than a marker item per chunk written with the counts in a transaction:
DynamoDB bills a transaction's every item twice, so that was 4 write units a chunk, where the update is
billed by the status item's size, 1 unit while the item stays within 1 KB. A chunk's number adds 2-3 bytes
to the set (a 500-SKU chunk: 200 chunks at 100,000 SKUs keep the item within about 1 KB; 2,000 chunks, a
million SKUs, make it about 7 KB, and the later updates 5-7 units each, more than the 2 units of a marker
item plus a counter update without a transaction, which would not count a chunk atomically). The status
item stays far below DynamoDB's 400 KB at any catalogue size a tick can reach in a day.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, BaseModel, ConfigDict

from commerce_ai import aws
from commerce_ai.errors import NotFound
from commerce_ai.pricing.decisions import newest_first
from commerce_ai.pricing.demand import POLICY

PARTITION = "#ticks"
PREFIX = "tick#"
RETENTION = timedelta(days=90)
MAX_TICKS_PAGE = 100
TICK_NAME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"  # ticks.tick_stamp's format
# RepricingFunction's Timeout and RepriceRequestsQueue's maxReceiveCount in template.yaml (a test keeps
# them in step): past the one a run is over, and after the other the request is in the DLQ.
RUN_TIMEOUT = timedelta(seconds=600)
REQUEST_ATTEMPTS = 3
# The status item's sets of the chunks counted done and failed (number sets: 2-3 bytes a chunk).
DONE_CHUNKS = "done_chunks"
FAILED_CHUNKS = "failed_chunks"
OUTCOMES = ("applied", "kept", "blocked", "failed", "superseded")
COUNTED = ("skus", "already_done", "unknown", *OUTCOMES)  # what a chunk adds to its tick's counts
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
    model_version: str | None = None  # a chunked tick's: the version its plan was made with
    chunks: int | None = None  # a chunked tick's chunks, once planned
    chunks_done: int | None = None
    chunks_failed: int | None = None

    def view(self) -> dict[str, Any]:
        """What the tick routes show (the plan's model version is in the summary once done)."""
        return self.model_dump(exclude={"model_version"})

    def counted(self, counts: dict[str, int]) -> TickStatus:
        """A chunked tick's status with its chunks' counts: done (or failed) once every chunk is counted."""
        if self.chunks is None:
            return self
        done, failed = counts.get("chunks_done", 0), counts.get("chunks_failed", 0)
        update: dict[str, Any] = {"chunks_done": done, "chunks_failed": failed}
        if self.state == "running" and done + failed >= self.chunks:
            update["state"] = "failed" if failed else "done"
            update["summary"] = {
                "tick": self.tick,
                "dry_run": False,
                "model_version": self.model_version or "",
                "policy_version": POLICY,
                **{name: counts.get(name, 0) for name in COUNTED},
            }
            if failed:
                update["error"] = (
                    f"{failed} of {self.chunks} chunk(s) failed every attempt: their messages are in "
                    "RepriceChunksDLQ (redrive them to run them again; each is counted once)"
                )
        return self.model_copy(update=update)

    def as_of(self, now: datetime) -> TickStatus:
        """This status as it stands at `now`: a `running` older than the function's timeout did not finish
        (a planned chunked tick runs on its workers, and finishes when its chunks are counted)."""
        if self.state != "running" or self.chunks is not None or now - self.updated_at <= RUN_TIMEOUT:
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

    def _key(self, name: str) -> dict[str, Any]:
        return {"sku": {"S": PARTITION}, "item": {"S": name}}

    def _expires(self, status: TickStatus) -> dict[str, str]:
        return {"N": str(int((status.updated_at + RETENTION).timestamp()))}

    def _stored(self, status: TickStatus) -> dict[str, Any]:
        return {"S": status.model_dump_json(exclude_none=True, exclude={"chunks_done", "chunks_failed"})}

    def record(self, status: TickStatus) -> None:
        """Write the status, leaving a chunked tick's counts as they are (a retried plan resets nothing)."""
        values = {":status": self._stored(status), ":expires": self._expires(status)}
        expression = "SET #status = :status, expires_at = :expires"
        if status.chunks is not None:
            values[":chunks"] = {"N": str(status.chunks)}
            expression += ", chunks = :chunks"
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(PREFIX + status.tick),
            UpdateExpression=expression,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )

    def record_new(self, status: TickStatus) -> bool:
        """Record a status for a tick name not seen before; False if that name is taken."""
        return aws.put_if(
            self.ddb,
            TableName=self.table,
            Item={
                **self._key(PREFIX + status.tick),
                "status": self._stored(status),
                "expires_at": self._expires(status),
            },
            ConditionExpression="attribute_not_exists(#item)",
            ExpressionAttributeNames={"#item": "item"},
        )

    def _status_of(self, item: dict[str, Any]) -> TickStatus:
        status = TickStatus.model_validate(json.loads(item["status"]["S"]))
        counts = {name: int(value["N"]) for name, value in item.items() if "N" in value and name != "expires_at"}
        return status.counted(counts)

    def find(self, tick: str) -> TickStatus | None:
        item = self.ddb.get_item(TableName=self.table, Key=self._key(PREFIX + tick), ConsistentRead=True).get("Item")
        return self._status_of(item) if item else None

    def get(self, tick: str) -> TickStatus:
        found = self.find(tick)
        if found is None:
            raise NotFound(f"no tick named {tick!r} is recorded")
        return found

    def recent(self, limit: int, cursor: str | None) -> tuple[list[TickStatus], str | None]:
        """Newest first, paged."""
        items, after = newest_first(self.ddb, self.table, PARTITION, PREFIX, limit, cursor, MAX_TICKS_PAGE)
        return [self._status_of(i) for i in items], after

    # -- a chunked tick's chunks ------------------------------------------------------------------------

    def chunk_state(self, tick: str, chunk: int) -> str | None:
        """`done`, `failed` (its last attempt failed) or None (not counted yet)."""
        item = self.ddb.get_item(TableName=self.table, Key=self._key(PREFIX + tick), ConsistentRead=True).get(
            "Item", {}
        )
        for state, attribute in (("done", DONE_CHUNKS), ("failed", FAILED_CHUNKS)):
            if str(chunk) in item.get(attribute, {}).get("NS", []):
                return state
        return None

    def finish_chunk(self, tick: str, chunk: int, summary: dict[str, Any], was_failed: bool, now: datetime) -> bool:
        """Count a chunk done with its SKUs' outcomes, once: False when it was counted before (a redelivery).
        A chunk counted failed before (it was redriven from the DLQ) moves from failed to done."""
        counts = {name: int(summary.get(name, 0)) for name in COUNTED}
        names = {f"#c{i}": name for i, name in enumerate(COUNTED)}
        values: dict[str, Any] = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(COUNTED)}
        values.update({":chunk": {"NS": [str(chunk)]}, ":one": {"N": "1"}})
        adds = [f"#c{i} :c{i}" for i in range(len(COUNTED))] + ["chunks_done :one", f"{DONE_CHUNKS} :chunk"]
        update = "ADD " + ", ".join(adds)
        if was_failed:
            values[":minus"] = {"N": "-1"}
            update = update + ", chunks_failed :minus DELETE " + f"{FAILED_CHUNKS} :chunk"
            condition = f"contains({FAILED_CHUNKS}, :number)"
        else:
            condition = f"NOT contains({DONE_CHUNKS}, :number) AND NOT contains({FAILED_CHUNKS}, :number)"
        return self._count(tick, chunk, update, condition, names, values)

    def fail_chunk(self, tick: str, chunk: int, now: datetime) -> bool:
        """Count a chunk failed after its last attempt (its message goes to the DLQ), once."""
        values = {":one": {"N": "1"}, ":chunk": {"NS": [str(chunk)]}}
        condition = f"NOT contains({DONE_CHUNKS}, :number) AND NOT contains({FAILED_CHUNKS}, :number)"
        return self._count(tick, chunk, f"ADD chunks_failed :one, {FAILED_CHUNKS} :chunk", condition, {}, values)

    def _count(
        self, tick: str, chunk: int, update: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        """Change the tick's counts and chunk sets in one conditional UpdateItem; False when the condition
        refused it (the chunk was counted so already)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._key(PREFIX + tick),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {**values, ":number": {"N": str(chunk)}},
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            self.ddb.update_item(**request)
        except ClientError as error:
            if aws.is_conditional_check_failure(error):
                return False
            raise
        return True

"""A whole-catalog tick that scales out: the schedule (or a queued admin reprice) plans the tick, and
workers decide and write it a chunk at a time.

The plan: page the catalog's SKU names (a Scan of the keys-only stage index), group them by market (a SKU's
cross-price slots read its market members' prices, so a market is never split: a chunk's worker reads
every price it needs with its own SKUs) and pack the groups into chunks of about `CHUNK_SKUS`, in a
fixed order, so the same catalog always makes the same chunks. Each chunk is one message on
`RepriceChunksQueue`: `{"tick", "chunk", "skus"}`. On AWS the chunks run concurrently across Lambda
invocations (a catalog of millions of SKUs is thousands of chunks, each well inside a minute); locally
the runner's queue worker runs them.

A worker runs the tick over its chunk (`ticks.run_tick` with the chunk's SKUs), idempotent per tick and
chunk: a chunk already counted done is skipped; a chunk that failed part-way runs again and skips the SKUs
its earlier attempt changed (their `last_tick`), writes the same audit records, publishes the earlier
attempt's events only if that chunk's event marker is missing, and rewrites its own S3 log object. Its
counts go to the tick's status once (`tick_log.TickLog.finish_chunk`). A chunk whose last attempt fails
is counted failed and its message goes to the DLQ; redriven, it runs again and moves to done.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.pricing.demand import ServingTable
from commerce_ai.pricing.observations import SKU_ID
from commerce_ai.pricing.tick_log import TickName

CHUNK_SKUS = 500  # SKUs a chunk holds (a market is never split, so a chunk can hold a few more)
MAX_CHUNK_SKUS = 2000  # what a message may carry: 2,000 names of 128 characters fit SQS's 256 KB
SEND_BATCH = 10  # SendMessageBatch's limit
# RepriceChunksQueue's maxReceiveCount in template.yaml (a test keeps them in step): a chunk failing its
# delivery of this number is counted failed, and its message goes to RepriceChunksDLQ.
CHUNK_ATTEMPTS = 3


class TickChunk(BaseModel):
    """One queue message: a chunk of a tick's SKUs."""

    model_config = ConfigDict(extra="forbid", strict=True)

    tick: TickName
    chunk: int = Field(ge=0)
    skus: list[Annotated[str, Field(pattern=SKU_ID)]] = Field(min_length=1, max_length=MAX_CHUNK_SKUS)


def market_groups(skus: Iterable[str], table: ServingTable) -> list[list[str]]:
    """The SKUs grouped by the market the served model puts them in (a SKU of no known market alone),
    groups and their SKUs in name order."""
    groups: dict[str, list[str]] = {}
    for sku in skus:
        market = table.profile(sku).market
        groups.setdefault(f"market:{market}" if market is not None else f"sku:{sku}", []).append(sku)
    return [sorted(groups[name]) for name in sorted(groups)]


def plan_chunks(tick: str, skus: Iterable[str], table: ServingTable, size: int = CHUNK_SKUS) -> list[TickChunk]:
    """The tick's chunks: market groups packed in order into chunks of about `size` SKUs."""
    chunks: list[TickChunk] = []
    current: list[str] = []
    for group in market_groups(skus, table):
        if current and len(current) + len(group) > size:
            chunks.append(TickChunk(tick=tick, chunk=len(chunks), skus=current))
            current = []
        current = [*current, *group]
    if current:
        chunks.append(TickChunk(tick=tick, chunk=len(chunks), skus=current))
    return chunks


def send_chunks(sqs: Any, queue_url: str, chunks: list[TickChunk]) -> int:
    """SendMessageBatch, ten at a time; raises if any entry is refused (the plan then fails, and a retried
    one sends every chunk again: chunks already counted are skipped)."""
    for start in range(0, len(chunks), SEND_BATCH):
        batch = chunks[start : start + SEND_BATCH]
        entries = [
            {"Id": str(c.chunk), "MessageBody": json.dumps(c.model_dump(), separators=(",", ":"))} for c in batch
        ]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} reprice chunk message(s) were refused by the queue")
    return len(chunks)

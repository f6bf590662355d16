"""Worker crashes: function processes killed (SIGKILL, by the fault layer's `crash_rate`, at a random AWS
call: before it is sent or after it was applied) while they work. The runner answers a dead worker as
Lambda does: the invocation fails, the batch stays on the queue, and the records come back after the
visibility timeout to a new process (a cold start).

- Queues: the same counts as the fault campaigns (`queues.run_case` with a crash rate).
- The pricing tick: a whole-catalog reprice whose chunk workers die mid-chunk. Counted from the tick's
  own status and the catalogue: every SKU decided once (the tick's `skus` count equals the catalogue's
  size: fewer is a lost SKU, more a chunk counted twice), every chunk done once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests

from tests.campaigns._up import Up
from tests.campaigns.queues import CAMPAIGN_VISIBILITY_SECONDS, restore_visibility, set_visibility


@dataclass
class TickOutcome:
    catalogue: int
    tick: str
    view: dict[str, Any]
    last_tick_skus: int  # SKUs whose catalogue entry names this tick (changed by it)
    crashes: int
    seconds: float

    @property
    def counted(self) -> int:
        return int((self.view.get("summary") or {}).get("skus", 0))

    @property
    def lost(self) -> int:
        summary = self.view.get("summary") or {}
        return max(0, self.catalogue - self.counted) + int(summary.get("failed", 0))

    @property
    def twice(self) -> int:
        chunks_over = max(0, int(self.view.get("chunks_done") or 0) - int(self.view.get("chunks") or 0))
        return max(0, self.counted - self.catalogue) + chunks_over


def _catalogue_size(up: Up) -> int:
    ddb = up.client("dynamodb")
    total, kwargs = 0, {"TableName": up.name("PricingCatalogTable"), "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _changed_by(up: Up, tick: str) -> int:
    ddb = up.client("dynamodb")
    total: int = 0
    kwargs: dict[str, Any] = {
        "TableName": up.name("PricingCatalogTable"),
        "Select": "COUNT",
        "FilterExpression": "last_tick = :t",
        "ExpressionAttributeValues": {":t": {"S": tick}},
    }
    while True:
        page = ddb.scan(**kwargs)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def pricing_tick(up: Up, crash_rate: float, fault_rate: float = 0.0, timeout: float = 1800.0) -> TickOutcome:
    queues = ["RepriceRequestsQueue", "RepriceChunksQueue"]
    before = set_visibility(up, queues, CAMPAIGN_VISIBILITY_SECONDS * 2)  # a chunk takes seconds, not minutes
    crashes_before = up.log_lines("RepriceChunkFunction", "FAULT crash")
    catalogue = _catalogue_size(up)
    headers = {"x-api-key": up.admin_key}
    started = time.monotonic()
    try:
        up.faults(rate=fault_rate, crash_rate=crash_rate, functions=["RepriceChunk"])
        queued = requests.post(f"{up.http}/pricing/reprice", json={}, headers=headers, timeout=60)
        queued.raise_for_status()
        tick = queued.json()["tick"]
        deadline = time.monotonic() + timeout
        view: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = requests.get(f"{up.http}/pricing/ticks/{tick}", headers=headers, timeout=60).json()
            chunks = view.get("chunks")
            finished = (view.get("chunks_done") or 0) + (view.get("chunks_failed") or 0)
            if chunks and finished >= chunks:
                break
            time.sleep(2.0)
    finally:
        up.faults(functions=["RepriceChunk"])
        restore_visibility(up, before)
    seconds = time.monotonic() - started
    time.sleep(2.0)
    view = requests.get(f"{up.http}/pricing/ticks/{tick}", headers=headers, timeout=60).json()
    crashes = up.log_lines("RepriceChunkFunction", "FAULT crash") - crashes_before
    return TickOutcome(catalogue, tick, view, _changed_by(up, tick), crashes, seconds)

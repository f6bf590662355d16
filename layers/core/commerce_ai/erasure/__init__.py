"""Shop-wide erasure of one user's personal data (`DELETE /users/{user_id}`), in one place for every
capability.

`erase(user_id)` first records the erasure in the erasure log (`UserErasuresTable`, keyed by a hash of the
user id, so the log itself holds no user id), then runs every capability's part: each capability that keeps
per-user data has a module `commerce_ai/<capability>/erasure.py` with

    def erase_user(user_id: str) -> int:   # items removed from that capability's own tables

found by name, as settings modules are (nothing central lists them). A capability that adds one also
gives `UserErasureFunction` its table's variable and delete grants in template.yaml. After the erasure:

- stream consumers skip the user's events stamped at or before the erasure (`EventConsumer`, one
  `erased_at_many` per batch), so an event still in flight does not bring the data back; later activity
  is new data;
- training from the event archive skips every archived event of an erased user (`erased_hashes`), until
  the archive's lifecycle rule deletes those events (365 days).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import commerce_ai
from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_get
from commerce_ai.erasure.settings import settings

PART_MODULE = "erasure"
BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
Part = Callable[[str], int]


def user_hash(user_id: str) -> str:
    """What the log stores instead of the user id (and what training compares archived user ids with)."""
    return hashlib.sha256(f"commerce-ai/erasure/{user_id}".encode()).hexdigest()


def parts() -> dict[str, Part]:
    """capability -> its `erase_user`, for every `commerce_ai.<capability>.erasure` module."""
    found: dict[str, Part] = {}
    for module in pkgutil.iter_modules(commerce_ai.__path__):
        if not module.ispkg or module.name == PART_MODULE:
            continue
        name = f"commerce_ai.{module.name}.{PART_MODULE}"
        if importlib.util.find_spec(name) is not None:
            found[module.name] = importlib.import_module(name).erase_user
    return found


class ErasureLog:
    """Who was erased and when: one item per user hash (`user_hash`, `erased_at` epoch ms, `parts`)."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, ddb: Any = None) -> None:
        self.table = table
        self._ddb = ddb

    @classmethod
    def from_settings(cls) -> ErasureLog:
        return cls(settings().need("user_erasures_table"))

    def record(self, user_id: str, at: datetime, removed: dict[str, int] | None = None) -> None:
        item: dict[str, Any] = {
            "user_hash": {"S": user_hash(user_id)},
            "erased_at": {"N": str(int(at.timestamp() * 1000))},
        }
        if removed is not None:
            item["removed"] = {"M": {k: {"N": str(v)} for k, v in sorted(removed.items())}}
        self.ddb.put_item(TableName=self.table, Item=item)

    def erased_at(self, user_id: str) -> datetime | None:
        """When `user_id` was erased, or None (one GetItem: for a single record; a batch asks `erased_at_many`)."""
        found = self.ddb.get_item(TableName=self.table, Key={"user_hash": {"S": user_hash(user_id)}}).get("Item")
        return None if found is None else datetime.fromtimestamp(int(found["erased_at"]["N"]) / 1000, tz=UTC)

    def erased_at_many(self, user_ids: set[str]) -> dict[str, datetime]:
        """user id -> erasure time, for those of `user_ids` that were erased (one BatchGetItem per 100 ids:
        what a queue consumer asks once per batch instead of once per event)."""
        by_hash = {user_hash(user_id): user_id for user_id in user_ids}
        hashes = sorted(by_hash)
        erased: dict[str, datetime] = {}
        for start in range(0, len(hashes), BATCH_GET_KEYS):
            keys = [{"user_hash": {"S": h}} for h in hashes[start : start + BATCH_GET_KEYS]]
            for responses in batch_get(self.ddb, {self.table: {"Keys": keys}}):
                for item in responses.get(self.table, []):
                    at = datetime.fromtimestamp(int(item["erased_at"]["N"]) / 1000, tz=UTC)
                    erased[by_hash[item["user_hash"]["S"]]] = at
        return erased

    def erased_hashes(self) -> frozenset[str]:
        hashes: set[str] = set()
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table, ProjectionExpression="user_hash"):
            hashes.update(item["user_hash"]["S"] for item in page.get("Items", []))
        return frozenset(hashes)


def erase(user_id: str, now: datetime, log: ErasureLog | None = None) -> dict[str, int]:
    """Record the erasure, then run every capability's part; returns items removed per capability."""
    log = log or ErasureLog.from_settings()
    log.record(user_id, now)  # first: from here on, consumers and training skip the user's events
    removed = {name: part(user_id) for name, part in sorted(parts().items())}
    log.record(user_id, now, removed)
    return removed

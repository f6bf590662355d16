"""DynamoDB adapter for the model registry: versions, their state, and the active-version pointer.

Table layout (one table, `MODEL_REGISTRY_TABLE`): partition key `model`, sort key `version`.
- a version item per registered version: `state` (candidate | quarantined), `summary` (JSON), reasons;
- one pointer item per model with sort key `#active`: `active_version` and `history`, the versions that
  were active before it, most recent last. Rollback pops that history, so any activation can be undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.clock import utc_now
from commerce_ai.errors import Conflict, NotFound

POINTER = "#active"
CANDIDATE = "candidate"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class VersionRecord:
    model: str
    version: str
    state: str
    registered_at: str
    manifest_sha256: str
    summary: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    # S3 object version of the manifest and each file when validated (a versioned bucket); {} otherwise.
    object_versions: dict[str, str] = field(default_factory=dict)

    def as_json(self, active_version: str | None) -> dict[str, Any]:
        return {
            "version": self.version,
            "state": "active" if self.version == active_version else self.state,
            "registered_at": self.registered_at,
            "manifest_sha256": self.manifest_sha256,
            "reason": self.reason,
            **self.summary,
        }


@dataclass(frozen=True)
class Pointer:
    model: str
    active_version: str
    history: list[str]
    updated_at: str
    revision: int = 0  # bumped by every write; the condition of the next one


class ModelRegistry:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    # -- versions ---------------------------------------------------------------------------------

    def register_candidate(
        self,
        model: str,
        version: str,
        manifest_sha256: str,
        summary: dict[str, Any],
        object_versions: dict[str, str] | None = None,
    ) -> bool:
        """Record a validated version. True if new; False if this exact manifest was already recorded.

        A version whose manifest changed after registration is quarantined: a version id must name one
        immutable set of bytes, or rollback would not restore what was running.
        """
        _refuse_pointer_key(version)
        if aws.put_if(
            self.ddb,
            TableName=self.table,
            Item={
                "model": {"S": model},
                "version": {"S": version},
                "state": {"S": CANDIDATE},
                "registered_at": {"S": utc_now()},
                "manifest_sha256": {"S": manifest_sha256},
                "summary": {"S": json.dumps(summary, sort_keys=True)},
                "object_versions": {"S": json.dumps(object_versions or {}, sort_keys=True)},
            },
            ConditionExpression="attribute_not_exists(#m)",
            ExpressionAttributeNames={"#m": "model"},
        ):
            return True
        existing = self.get_version(model, version)
        if existing.manifest_sha256 != manifest_sha256 and existing.state != QUARANTINED:
            self.quarantine(model, version, manifest_sha256, "manifest changed after registration")
        return False

    def quarantine(self, model: str, version: str, manifest_sha256: str, reason: str) -> None:
        """Mark a version unusable. It can never be activated; the reason is kept for operators."""
        _refuse_pointer_key(version)
        self.ddb.put_item(
            TableName=self.table,
            Item={
                "model": {"S": model},
                "version": {"S": version},
                "state": {"S": QUARANTINED},
                "registered_at": {"S": utc_now()},
                "manifest_sha256": {"S": manifest_sha256},
                "summary": {"S": "{}"},
                "reason": {"S": reason[:1000]},
            },
        )

    def get_version(self, model: str, version: str) -> VersionRecord:
        item = self.ddb.get_item(
            TableName=self.table, Key={"model": {"S": model}, "version": {"S": version}}, ConsistentRead=True
        ).get("Item")
        if not item or version == POINTER:
            raise NotFound(f"model {model!r} has no version {version!r}")
        return _version_from_item(item)

    def versions(self, model: str) -> list[VersionRecord]:
        return self.snapshot(model)[1]

    def snapshot(self, model: str) -> tuple[Pointer | None, list[VersionRecord]]:
        """The pointer and every version of `model` from a single Query (the pointer shares the partition)."""
        pointer = None
        versions = []
        for item in self._query(model):
            if item["version"]["S"] == POINTER:
                pointer = _pointer_from_item(item)
            else:
                versions.append(_version_from_item(item))
        return pointer, versions

    def snapshots(self) -> dict[str, tuple[Pointer | None, list[VersionRecord]]]:
        """Every model's pointer and versions from one Scan (the registry is small; GET /models reads it)."""
        found: dict[str, tuple[Pointer | None, list[VersionRecord]]] = {}
        paginator = self.ddb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table, ConsistentRead=True):
            for item in page.get("Items", []):
                _, versions = found.setdefault(item["model"]["S"], (None, []))
                if item["version"]["S"] == POINTER:
                    found[item["model"]["S"]] = (_pointer_from_item(item), versions)
                else:
                    versions.append(_version_from_item(item))
        return dict(sorted(found.items()))

    def models(self) -> list[str]:
        return list(self.snapshots())

    # -- the active pointer -----------------------------------------------------------------------

    def pointer(self, model: str) -> Pointer | None:
        item = self.ddb.get_item(
            TableName=self.table, Key={"model": {"S": model}, "version": {"S": POINTER}}, ConsistentRead=True
        ).get("Item")
        return _pointer_from_item(item) if item else None

    def active_version(self, model: str) -> str | None:
        pointer = self.pointer(model)
        return pointer.active_version if pointer else None

    def activate(self, model: str, version: str) -> Pointer:
        """Point `model` at `version`, remembering the previous one for rollback."""
        record = self.get_version(model, version)
        if record.state == QUARANTINED:
            raise Conflict(f"{model}/{version} is quarantined and cannot be activated: {record.reason}")
        current = self.pointer(model)
        if current and current.active_version == version:
            return current
        history = [*current.history, current.active_version] if current else []
        return self._swap_pointer(model, current, version, history)

    def rollback(self, model: str) -> Pointer:
        """Re-activate the version that was active before the current one."""
        current = self.pointer(model)
        if current is None:
            raise NotFound(f"model {model!r} has no active version to roll back from")
        history = list(current.history)
        while history:
            previous = history.pop()
            if self.get_version(model, previous).state != QUARANTINED:
                return self._swap_pointer(model, current, previous, history)
        raise Conflict(f"model {model!r} has no earlier usable version to roll back to")

    def _swap_pointer(self, model: str, expected: Pointer | None, version: str, history: list[str]) -> Pointer:
        # Optimistic concurrency: two admins racing cannot silently lose each other's change.
        written = Pointer(model, version, history[-50:], utc_now(), expected.revision + 1 if expected else 1)
        condition: dict[str, Any]
        if expected is None:
            condition = {
                "ConditionExpression": "attribute_not_exists(#m)",
                "ExpressionAttributeNames": {"#m": "model"},
            }
        else:
            # The revision, not the active version: A->B->A between a read and a write must still conflict.
            condition = {
                "ConditionExpression": "revision = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected.revision)}},
            }
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={
                    "model": {"S": model},
                    "version": {"S": POINTER},
                    "active_version": {"S": version},
                    "history": {"L": [{"S": v} for v in written.history]},
                    "updated_at": {"S": written.updated_at},
                    "revision": {"N": str(written.revision)},
                },
                **condition,
            )
        except ClientError as exc:
            if aws.is_conditional_check_failure(exc):
                raise Conflict(f"model {model!r} was changed concurrently; retry") from exc
            raise
        return written

    def _query(self, model: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self.ddb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="#m = :m",
            ExpressionAttributeNames={"#m": "model"},
            ExpressionAttributeValues={":m": {"S": model}},
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", []))
        return items


def _refuse_pointer_key(version: str) -> None:
    if version == POINTER:
        raise ValueError(f"{POINTER!r} is the registry's pointer key, not a version")


def _pointer_from_item(item: dict[str, Any]) -> Pointer:
    return Pointer(
        model=item["model"]["S"],
        active_version=item["active_version"]["S"],
        history=[v["S"] for v in item.get("history", {}).get("L", [])],
        updated_at=item.get("updated_at", {}).get("S", ""),
        revision=int(item.get("revision", {}).get("N", "0")),
    )


def _version_from_item(item: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        model=item["model"]["S"],
        version=item["version"]["S"],
        state=item["state"]["S"],
        registered_at=item["registered_at"]["S"],
        manifest_sha256=item["manifest_sha256"]["S"],
        summary=json.loads(item.get("summary", {}).get("S", "{}")),
        reason=item.get("reason", {}).get("S"),
        object_versions=json.loads(item.get("object_versions", {}).get("S", "{}")),
    )

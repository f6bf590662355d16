"""DynamoDB adapter for experiments (`EXPERIMENTS_TABLE`, keys `pk` and `sk`, TTL on `expires_at`).

Items:
- a definition per experiment: pk `#experiments`, sk the name; the definition as JSON and its `revision`,
  the condition of the next write (so two admins' changes never silently overwrite each other: 409);
- a user's state per experiment: pk `<name>#user#<key>`, sk `state`: the arm of their first exposure, its
  time, and the times of their first click and purchase after it. `<key>` is a hash of experiment and user
  id: no raw user id is stored, and the item expires USER_STATE_DAYS after the user's last counted event;
- an exposure marker per impression event: pk `<name>#exposure#<event id>`, sk `marker` (same expiry), so
  a redelivered impression is counted once;
- per-arm counters: pk `<name>#counts`, sk `<arm>#<shard>`: `users`, `exposures`, `clickers`,
  `converters`, spread over COUNTER_SHARDS items per arm by user, so a busy arm is not one hot item.

A count and the fact it counts change in one transaction (TransactWriteItems), conditioned on that fact
being new: a redelivered or concurrent event cannot count twice, and a crash between the two cannot lose a
count or make one twice.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.errors import Conflict
from commerce_ai.experiments.definitions import Experiment
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.stream.schema import format_timestamp

DEFINITIONS = "#experiments"
COUNTER_SHARDS = 8
USER_STATE_DAYS = 90
MAX_RACE_RETRIES = 3  # re-reads of a user's state that another event changed meanwhile
MAX_CONFLICT_RETRIES = 4  # attempts of a transaction that collided with another on the same items
CONDITION_FAILED, TRANSACTION_CONFLICT = "ConditionalCheckFailed", "TransactionConflict"
Outcome = Literal["click", "purchase"]
OUTCOME_FIELDS: dict[str, tuple[str, str]] = {
    "click": ("clicked_at", "clickers"),
    "purchase": ("converted_at", "converters"),
}
COUNTERS = ("users", "exposures", "clickers", "converters")


@dataclass(frozen=True)
class UserState:
    arm: str
    exposed_at: str
    clicked_at: str | None = None
    converted_at: str | None = None


@dataclass
class ArmCounts:
    users: int = 0
    exposures: int = 0
    clickers: int = 0
    converters: int = 0


def user_key(experiment: str, user_id: str) -> str:
    """A pseudonymous key of the user within one experiment (never the user id itself)."""
    return hashlib.sha256(f"{experiment}\0{user_id}".encode()).hexdigest()[:32]


class ExperimentStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    # -- definitions --------------------------------------------------------------------------------

    def get(self, name: str) -> Experiment | None:
        item = self.ddb.get_item(
            TableName=self.table, Key={"pk": {"S": DEFINITIONS}, "sk": {"S": name}}, ConsistentRead=True
        ).get("Item")
        return Experiment.model_validate_json(item["definition"]["S"]) if item else None

    def put(self, experiment: Experiment, previous_revision: int | None) -> None:
        """Store `experiment` if the stored one is still at `previous_revision` (None: none stored)."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "Item": {
                "pk": {"S": DEFINITIONS},
                "sk": {"S": experiment.name},
                "definition": {"S": experiment.model_dump_json()},
                "revision": {"N": str(experiment.revision)},
            },
        }
        if previous_revision is None:
            request |= {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            request |= {
                "ConditionExpression": "#revision = :previous",
                "ExpressionAttributeNames": {"#revision": "revision"},
                "ExpressionAttributeValues": {":previous": {"N": str(previous_revision)}},
            }
        if not aws.put_if(self.ddb, **request):
            raise Conflict(f"experiment {experiment.name!r} was changed by someone else meanwhile; read it and retry")

    def page(self, limit: int, cursor: str | None) -> tuple[list[Experiment], str | None]:
        """Definitions in name order, `limit` at a time; the cursor of the next page, None at the end."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :definitions",
            "ExpressionAttributeValues": {":definitions": {"S": DEFINITIONS}},
            "Limit": limit,
        }
        start = decode_cursor(cursor, {"pk", "sk"})
        if start is not None:
            request["ExclusiveStartKey"] = start
        response = self.ddb.query(**request)
        experiments = [Experiment.model_validate_json(item["definition"]["S"]) for item in response.get("Items", [])]
        return experiments, encode_cursor(response.get("LastEvaluatedKey"))

    def all(self) -> list[Experiment]:
        found: list[Experiment] = []
        cursor: str | None = None
        while True:
            page, cursor = self.page(100, cursor)
            found.extend(page)
            if cursor is None:
                return found

    def erase_user(self, user_id: str) -> int:
        """Delete the user's state in every experiment (the shop-wide erasure): its key is a hash of the
        experiment's and the user's names, so it is found by computing it, one DeleteItem per experiment.
        The arms' counters are sums over users and stay. Returns the states deleted."""
        removed = 0
        for experiment in self.all():
            deleted = self.ddb.delete_item(
                TableName=self.table,
                Key=self._user(experiment.name, user_key(experiment.name, user_id)),
                ReturnValues="ALL_OLD",
            )
            removed += bool(deleted.get("Attributes"))
        return removed

    # -- counting -----------------------------------------------------------------------------------

    def user_state(self, experiment: str, user_id: str) -> UserState | None:
        item = self.ddb.get_item(
            TableName=self.table, Key=self._user(experiment, user_key(experiment, user_id)), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return UserState(
            arm=item["arm"]["S"],
            exposed_at=item["exposed_at"]["S"],
            clicked_at=item.get("clicked_at", {}).get("S"),
            converted_at=item.get("converted_at", {}).get("S"),
        )

    def record_exposure(
        self, experiment: str, arm: str, user_id: str, event_id: str, at: datetime, now: datetime
    ) -> Literal["new_user", "exposure", "duplicate"]:
        """Count one impression of `arm` (and the user, if this is their first exposure), once per event."""
        key = user_key(experiment, user_id)
        expires = self._expiry(at, now)
        marker = {
            "Put": {
                "TableName": self.table,
                "Item": {
                    "pk": {"S": f"{experiment}#exposure#{hashlib.sha256(event_id.encode()).hexdigest()[:32]}"},
                    "sk": {"S": "marker"},
                    "expires_at": {"N": expires},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        for _ in range(MAX_RACE_RETRIES):
            state = self.user_state(experiment, user_id)
            if state is None:
                user: dict[str, Any] = {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **self._user(experiment, key),
                            "arm": {"S": arm},
                            "exposed_at": {"S": format_timestamp(at)},
                            "expires_at": {"N": expires},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
                counts = {"users": 1, "exposures": 1}
            else:
                user = {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._user(experiment, key),
                        "UpdateExpression": "SET expires_at = :expires",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":expires": {"N": expires}},
                    }
                }
                counts = {"exposures": 1}
            refused = self._transact([marker, user, self._count(experiment, arm, key, counts)])
            if refused is None:
                return "new_user" if state is None else "exposure"
            if refused[0] == CONDITION_FAILED:
                return "duplicate"
            # another event of this user got there first: read their state again
        raise Conflict(f"user state of experiment {experiment!r} kept changing; the event will be retried")

    def record_outcome(self, experiment: str, user_id: str, outcome: Outcome, at: datetime, now: datetime) -> bool:
        """Count the user's first `outcome` after their first exposure, once; False if it does not count
        (never exposed, exposed later than `at`, or already counted)."""
        state = self.user_state(experiment, user_id)
        stamp = format_timestamp(at)
        time_field, counter = OUTCOME_FIELDS[outcome]
        if state is None or stamp < state.exposed_at or getattr(state, time_field) is not None:
            return False
        key = user_key(experiment, user_id)
        user = {
            "Update": {
                "TableName": self.table,
                "Key": self._user(experiment, key),
                "UpdateExpression": "SET #outcome = :at, expires_at = :expires",
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#outcome)",
                "ExpressionAttributeNames": {"#outcome": time_field},
                "ExpressionAttributeValues": {":at": {"S": stamp}, ":expires": {"N": self._expiry(at, now)}},
            }
        }
        # refused: counted already (a redelivery, or another event of the same kind)
        return self._transact([user, self._count(experiment, state.arm, key, {counter: 1})]) is None

    def counts(self, experiment: str) -> dict[str, ArmCounts]:
        """Each arm's counters, summed over its shards."""
        found: dict[str, ArmCounts] = {}
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :counts",
            "ExpressionAttributeValues": {":counts": {"S": f"{experiment}#counts"}},
            "ConsistentRead": True,
        }
        for page in self.ddb.get_paginator("query").paginate(**request):
            for item in page.get("Items", []):
                arm = item["sk"]["S"].rsplit("#", 1)[0]
                total = found.setdefault(arm, ArmCounts())
                for name in COUNTERS:
                    setattr(total, name, getattr(total, name) + int(item.get(name, {}).get("N", "0")))
        return found

    def _transact(self, actions: list[dict[str, Any]]) -> list[str] | None:
        """Write `actions` in one transaction: None once written, or the per-action cancellation codes
        when a condition refused it. A conflict with another transaction on the same items (a busy
        counter shard) is retried a few times with jitter, then raised: the queue retries the record."""
        for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
            try:
                self.ddb.transact_write_items(TransactItems=actions)
                return None
            except ClientError as exc:
                codes = aws.cancellation_codes(exc)
                if codes is None:
                    raise
                if CONDITION_FAILED in codes:
                    return codes
                if TRANSACTION_CONFLICT not in codes or attempt == MAX_CONFLICT_RETRIES:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    # -- keys ---------------------------------------------------------------------------------------

    @staticmethod
    def _user(experiment: str, key: str) -> dict[str, Any]:
        return {"pk": {"S": f"{experiment}#user#{key}"}, "sk": {"S": "state"}}

    def _count(self, experiment: str, arm: str, key: str, counts: dict[str, int]) -> dict[str, Any]:
        shard = int(key[:8], 16) % COUNTER_SHARDS
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"pk": {"S": f"{experiment}#counts"}, "sk": {"S": f"{arm}#{shard}"}},
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {f":c{i}": {"N": str(v)} for i, v in enumerate(counts.values())},
            }
        }

    @staticmethod
    def _expiry(at: datetime, now: datetime) -> str:
        return str(int((max(at, now) + timedelta(days=USER_STATE_DAYS)).timestamp()))

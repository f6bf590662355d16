"""Profiles in DynamoDB (`UserProfilesTable`): one item per user and kind (`user_id`, `kind`).

`kind = "profile"` holds the aggregates (`Profile.to_dict()` as zlib-compressed JSON, a few KB), a
`revision` that every write is conditioned on (two consumers folding events of one user at once cannot
lose one's update: the loser re-reads and folds again), `updated_at` and `expires_at` (TTL: the profile
expires PROFILE_TTL_DAYS after its user's last event). Other kinds share the partition (scores,
`score#<horizon>`; daily segment memberships, `segment#<segment>`), so erasing a user is one Query and its
deletes.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from commerce_ai import aws
from commerce_ai.propensity.profile import DAY, Profile
from commerce_ai.propensity.settings import settings

PROFILE = "profile"
PROFILE_TTL_DAYS = 400  # a year of the archive plus a margin: a user gone that long starts afresh
SEGMENT_PREFIX = "segment#"


def segment_kind(segment: str) -> str:
    return SEGMENT_PREFIX + segment


@dataclass(frozen=True)
class StoredProfile:
    profile: Profile
    revision: int
    updated_at: float


def decode_state(item: dict[str, Any]) -> Profile:
    """The profile in a stored item (its `state`: zlib-compressed JSON)."""
    return Profile.from_dict(json.loads(zlib.decompress(item["state"]["B"])))


class ProfileStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, ddb: Any = None) -> None:
        self.table = table
        self._ddb = ddb

    @classmethod
    def from_settings(cls) -> ProfileStore:
        return cls(settings().need("user_profiles_table"))

    def get(self, user_id: str, consistent: bool = False) -> StoredProfile | None:
        found = self.ddb.get_item(
            TableName=self.table, Key={"user_id": {"S": user_id}, "kind": {"S": PROFILE}}, ConsistentRead=consistent
        ).get("Item")
        if found is None:
            return None
        return StoredProfile(decode_state(found), int(found["revision"]["N"]), float(found["updated_at"]["N"]))

    def save(self, profile: Profile, previous_revision: int | None, now: float) -> bool:
        """Write `profile` if the stored revision is still `previous_revision` (None: no profile yet)."""
        state = zlib.compress(json.dumps(profile.to_dict(), separators=(",", ":")).encode(), 6)
        revision = (previous_revision or 0) + 1
        last_event = profile.last_seen if profile.last_seen is not None else now
        item = {
            "user_id": {"S": profile.user_id},
            "kind": {"S": PROFILE},
            "state": {"B": state},
            "revision": {"N": str(revision)},
            "updated_at": {"N": f"{now:.3f}"},
            "expires_at": {"N": str(int(max(last_event, now) + PROFILE_TTL_DAYS * DAY))},
        }
        if previous_revision is None:
            return aws.put_if(
                self.ddb, TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(user_id)"
            )
        return aws.put_if(
            self.ddb,
            TableName=self.table,
            Item=item,
            ConditionExpression="revision = :seen",
            ExpressionAttributeValues={":seen": {"N": str(previous_revision)}},
        )

    def segment(self, user_id: str, segment: str, now: float) -> dict[str, Any] | None:
        """The user's membership of a daily segment (`commerce_ai.propensity.batch`): `{"segment", "day",
        "probability", "threshold", "horizon", "model_version"}`, or None. An expired item that DynamoDB's
        TTL has not deleted yet is not a membership."""
        found = self.ddb.get_item(
            TableName=self.table, Key={"user_id": {"S": user_id}, "kind": {"S": segment_kind(segment)}}
        ).get("Item")
        if found is None or float(found["expires_at"]["N"]) <= now:
            return None
        return {
            "segment": segment,
            "day": found["day"]["S"],
            "probability": float(found["probability"]["N"]),
            "threshold": float(found["threshold"]["N"]),
            "horizon": found["horizon"]["S"],
            "model_version": found["model_version"]["S"],
        }

    def erase_user(self, user_id: str) -> int:
        """Delete every item of the user (profile and scores); the number deleted."""
        removed = 0
        paginator = self.ddb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="user_id = :u",
            ExpressionAttributeValues={":u": {"S": user_id}},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                self.ddb.delete_item(TableName=self.table, Key={"user_id": item["user_id"], "kind": item["kind"]})
                removed += 1
        return removed

"""Where session state lives: one DynamoDB item per user in `RecommendationSessionsTable`.

The item is `{user_id, state (JSON), revision, expires_at}`; `expires_at` is the table's TTL attribute
(`SESSION_TTL_DAYS` after the user's last event), so personal data expires on its own, and `erase` deletes
it at once (the shop-wide erasure calls it). Writes are conditional on the revision read, so two consumers
applying events of the same user never lose one; a lost race is retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from commerce_ai import aws
from commerce_ai.recommendations.session import SessionState, ttl
from commerce_ai.recommendations.settings import settings

WRITE_ATTEMPTS = 5


class SessionStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, ddb: Any = None) -> None:
        self.table = table
        self._ddb = ddb

    def _read(self, user_id: str, consistent: bool) -> tuple[SessionState, int]:
        found = self.ddb.get_item(TableName=self.table, Key={"user_id": {"S": user_id}}, ConsistentRead=consistent)
        item = found.get("Item")
        if item is None:
            return SessionState(), 0
        return SessionState.from_json(json.loads(item["state"]["S"])), int(item["revision"]["N"])

    def get(self, user_id: str) -> SessionState:
        """The user's state (empty if none). Consistent, so an event applied a moment ago is seen."""
        return self._read(user_id, consistent=True)[0]

    def update(self, user_id: str, change: Callable[[SessionState], SessionState]) -> SessionState:
        for _ in range(WRITE_ATTEMPTS):
            state, revision = self._read(user_id, consistent=True)
            new = change(state)
            condition = "attribute_not_exists(user_id)" if revision == 0 else "revision = :seen"
            request: dict[str, Any] = {
                "TableName": self.table,
                "Item": {
                    "user_id": {"S": user_id},
                    "state": {"S": json.dumps(new.as_json(), separators=(",", ":"))},
                    "revision": {"N": str(revision + 1)},
                    "expires_at": {"N": str(ttl(new))},
                },
                "ConditionExpression": condition,
            }
            if revision:
                request["ExpressionAttributeValues"] = {":seen": {"N": str(revision)}}
            if aws.put_if(self.ddb, **request):
                return new
        raise RuntimeError(f"session state kept changing under {WRITE_ATTEMPTS} attempts; the event will be retried")

    def erase(self, user_id: str) -> int:
        """Delete the user's session state (the right to erasure); nothing to delete is fine. Returns the
        items deleted (0 or 1)."""
        deleted = self.ddb.delete_item(TableName=self.table, Key={"user_id": {"S": user_id}}, ReturnValues="ALL_OLD")
        return 1 if deleted.get("Attributes") else 0


@cache
def sessions() -> SessionStore:
    """The function's session store (RECOMMENDATION_SESSIONS_TABLE), one per container."""
    return SessionStore(settings().need("recommendation_sessions_table"))

"""One-off migration: give `user_hash` to support items written before the `by_user` index existed.

Conversations, WebSocket connections and tickets written before that change carry no `user_hash`, so the
shop-wide erasure (`DELETE /users/{user_id}`), which finds a user's items through the index, misses them
until their TTL (a week idle for a conversation, two hours for a connection, 90 days for a ticket). This
gives each such item its hash, or deletes it when its user was erased after it was last written (that
erasure missed it).

Safe to repeat and to run beside live traffic: it reads only items without the attribute (a Scan with a
filter: one pass over the table, once), every update is conditional on the item still being there without
it, and an item already migrated is not read again. `up` runs it with the support seed, so local stacks
migrate themselves; against a deployed stack, with the stack's table names and your own credentials:

    python -m model_build.support.backfill CONVERSATIONS_TABLE TICKETS_TABLE USER_ERASURES_TABLE
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.erasure import ErasureLog, user_hash

# Times a document may hold, of which the latest is when it was last written.
_WRITTEN = ("updated_at", "created_at", "connected_at")


@dataclass(frozen=True)
class Backfilled:
    hashed: int
    deleted: int


def last_written(document: dict[str, Any]) -> datetime | None:
    times = [datetime.fromisoformat(str(document[k]).replace("Z", "+00:00")) for k in _WRITTEN if document.get(k)]
    return max(times) if times else None


def backfill_table(ddb: Any, table: str, key: str, erasures: ErasureLog) -> Backfilled:
    hashed = deleted = 0
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "attribute_not_exists(user_hash) AND attribute_exists(#doc)",
        "ProjectionExpression": "#key, #doc",
        "ExpressionAttributeNames": {"#key": key, "#doc": "doc"},
    }
    while True:
        response = ddb.scan(**request)
        found = [(item[key], json.loads(item["doc"]["S"])) for item in response.get("Items", [])]
        erased = erasures.erased_at_many({str(doc["user_id"]) for _, doc in found if doc.get("user_id")})
        for item_key, doc in found:
            user = doc.get("user_id")
            if not user:
                continue
            written = last_written(doc)
            if user in erased and (written is None or written <= erased[user]):
                ddb.delete_item(TableName=table, Key={key: item_key})
                deleted += 1
            elif _set_hash(ddb, table, key, item_key, str(user)):
                hashed += 1
        if "LastEvaluatedKey" not in response:
            return Backfilled(hashed, deleted)
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _set_hash(ddb: Any, table: str, key: str, item_key: dict[str, str], user_id: str) -> bool:
    try:
        ddb.update_item(
            TableName=table,
            Key={key: item_key},
            UpdateExpression="SET user_hash = :user",
            ConditionExpression="attribute_exists(#key) AND attribute_not_exists(user_hash)",
            ExpressionAttributeNames={"#key": key},
            ExpressionAttributeValues={":user": {"S": user_hash(user_id)}},
        )
    except ClientError as error:
        if aws.is_conditional_check_failure(error):
            return False  # deleted meanwhile, or written again (with its hash) by the bot
        raise
    return True


def backfill(conversations_table: str, tickets_table: str, erasures_table: str) -> Backfilled:
    ddb = aws.client("dynamodb")
    erasures = ErasureLog(erasures_table, ddb)
    results = [
        backfill_table(ddb, conversations_table, "conversation_id", erasures),
        backfill_table(ddb, tickets_table, "ticket_id", erasures),
    ]
    return Backfilled(sum(r.hashed for r in results), sum(r.deleted for r in results))


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    done = backfill(*argv)
    print(json.dumps({"hashed": done.hashed, "deleted": done.deleted}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

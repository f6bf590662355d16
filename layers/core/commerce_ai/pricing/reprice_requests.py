"""Idempotency keys on reprice requests (`POST /pricing/reprice` with `idempotency_key`): an admin tool or a
script that lost the answer to a reprice (a timeout, a dropped connection) sends the same request again and
gets the first answer, instead of a second tick (given SKUs repriced twice) or a 409 naming its own
queued tick. A different request under a used key gets a 409 that says so, as every idempotency key in the
project does (`commerce_ai.idempotency`: the key is claimed with the sha256 digest of the validated request).

One item per key in the pricing table, under the partition `#reprice-requests` (no SKU starts with `#`):
`request#<key>` holds the digest, the time of the claim and, once the request is answered, the answer
(its HTTP status and zlib-compressed JSON body: up to 1,000 decisions fit well inside DynamoDB's 400 KB).
The claim is taken before the request runs, so two copies sent at once run it once: the second gets a 409
asking it to retry shortly. A request that fails (a 409 for a reprice already pending, no model to serve,
a crash) releases its claim, so its retry runs it; a claim left by a dead container can be taken again
after `STALE_CLAIM`. Keys are kept for `RETENTION` (DynamoDB TTL, and read as gone once past it).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.errors import Conflict
from commerce_ai.idempotency import same_request

PARTITION = "#reprice-requests"
PREFIX = "request#"
RETENTION = timedelta(hours=24)
# Past this a claim without an answer is a request that died (API Gateway gives up after 29 s; the API
# function's timeout is shorter than this), and a retry may take it.
STALE_CLAIM = timedelta(minutes=2)
KEY_NAME = "idempotency_key"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class RepriceRequests:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def _key(self, key: str) -> dict[str, Any]:
        return {"sku": {"S": PARTITION}, "item": {"S": PREFIX + key}}

    def claim(self, key: str, digest: str, now: datetime) -> Answer | None:
        """Claim `key` for the request of `digest`: None when this call may run it, the first answer when
        it was answered already; KeyReused (409) when a different request holds the key, Conflict (409)
        while the same request is still being answered."""
        stamp = int(now.timestamp())
        item = {
            **self._key(key),
            "request_digest": {"S": digest},
            "claimed_at": {"N": str(stamp)},
            "expires_at": {"N": str(int((now + RETENTION).timestamp()))},
        }
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item=item,
                # Free, expired (TTL deletes late), or a claim its request left unanswered too long ago.
                ConditionExpression="attribute_not_exists(#item) OR expires_at < :now OR "
                "(attribute_not_exists(answer) AND claimed_at < :stale)",
                ExpressionAttributeNames={"#item": "item"},
                ExpressionAttributeValues={
                    ":now": {"N": str(stamp)},
                    ":stale": {"N": str(int((now - STALE_CLAIM).timestamp()))},
                },
            )
            return None
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise
        stored = self.ddb.get_item(TableName=self.table, Key=self._key(key), ConsistentRead=True).get("Item", {})
        same_request(KEY_NAME, key, stored.get("request_digest", {}).get("S"), digest)
        if "answer" not in stored:
            raise Conflict(f"{KEY_NAME} {key!r}: the first request with it is still being answered; retry shortly")
        body = json.loads(zlib.decompress(stored["answer"]["B"]))
        return Answer(int(stored["status"]["N"]), body)

    def answer(self, key: str, digest: str, answer: Answer) -> None:
        """Keep the answer of the request that holds the claim, for its retries."""
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(key),
            UpdateExpression="SET answer = :answer, #status = :status",
            ConditionExpression="request_digest = :digest",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":answer": {"B": zlib.compress(json.dumps(answer.body, separators=(",", ":")).encode())},
                ":status": {"N": str(answer.status)},
                ":digest": {"S": digest},
            },
        )

    def release(self, key: str, digest: str) -> None:
        """Give the key back after the request failed, so that its retry runs it: the claim is dated back
        past `STALE_CLAIM` (an update: the API's role has no DeleteItem on the pricing table)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(key),
                UpdateExpression="SET claimed_at = :zero",
                ConditionExpression="request_digest = :digest AND attribute_not_exists(answer)",
                ExpressionAttributeValues={":digest": {"S": digest}, ":zero": {"N": "0"}},
            )
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise

"""Batch scoring: a segment of users scored at once, written to S3 as CSV for marketing tools, with a
status record saying where; and the daily job that scores every active user and publishes `high_intent`.

A request (`BatchRequest`, one SQS message) names a job id, a horizon, and either a list of user ids or
"every user active in the last N days" (profiles written in that time: a Scan of the profiles table). The
job reads the profiles (BatchGetItem, 100 at a time), scores them in one batched inference with the same
features as the API, writes `segments/<job_id>.csv` (`user_id, probability, cold_start, model_version`;
unknown users get the population prior, `cold_start` true) to `PropensityExportsBucket`, stores each known
user's score beside the profile (kind `score#<horizon>`, 30-day TTL, erased with the profile), and puts
the job's status record in `PropensityJobsTable`.

Idempotent: the status record keeps a hash of the request; a redelivered request whose job is `done`
changes nothing, and a different request reusing a job id is refused (KeyReused, a conflict: to the
DLQ). A job that fails leaves status `failed` with the error type and is retried by the queue. The daily run is the
job `daily-<date>` over users active in the last 30 days, and additionally writes the top decile as
`segments/high_intent/<date>.csv` and its size and threshold in the status record.

The daily segment is also published to DynamoDB, so a shop can ask per user (one GetItem) whether they
are in it: an item beside the user's profile, kind `segment#high_intent` (`day`, `probability`,
`threshold`, `horizon`, `model_version`, `expires_at`). Yesterday's members who fell out are deleted (the
run reads yesterday's CSV; members are few, a tenth of the active users), and each membership expires
SEGMENT_TTL_DAYS after its run (TTL), so one that a missed run never replaced lapses; readers skip an
expired item DynamoDB has not deleted yet (`ProfileStore.segments`). Erasing a user deletes it with the
profile (the same partition).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commerce_ai import aws
from commerce_ai.api_fields import Identifier
from commerce_ai.idempotency import same_request
from commerce_ai.propensity.features import feature_vector
from commerce_ai.propensity.profile import DAY, Profile
from commerce_ai.propensity.store import PROFILE, ProfileStore, decode_state, segment_kind
from commerce_ai.stream.schema import IDENTIFIER, format_timestamp

MAX_USERS = 10_000
SCORE_TTL_DAYS = 30
DAILY_ACTIVE_DAYS = 30
HIGH_INTENT_SHARE = 0.1  # the top decile
HIGH_INTENT = "high_intent"
SEGMENT_TTL_DAYS = 2  # a daily segment's membership outlives one missed run, then lapses


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    job_id: str = Field(pattern=IDENTIFIER)
    horizon: Literal["7d", "28d"] = "7d"
    user_ids: list[Identifier] | None = Field(default=None, min_length=1, max_length=MAX_USERS)
    active_days: int | None = Field(default=None, ge=1, le=400)

    @model_validator(mode="after")
    def _one_segment(self) -> BatchRequest:
        if (self.user_ids is None) == (self.active_days is None):
            raise ValueError("give either user_ids or active_days")
        return self

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class JobResult:
    job_id: str
    status: str
    output: str | None
    users: int
    known: int
    high_intent: int | None = None
    replayed: bool = False


class JobStore:
    """Status records in `PropensityJobsTable`, one per job id."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, ddb: Any = None) -> None:
        self.table = table
        self._ddb = ddb

    def get(self, job_id: str) -> dict[str, Any] | None:
        item = self.ddb.get_item(TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True).get("Item")
        return None if item is None else {k: next(iter(v.values())) for k, v in item.items()}

    def put(self, job_id: str, **fields: str | int | float) -> None:
        item: dict[str, Any] = {"job_id": {"S": job_id}}
        for key, value in fields.items():
            item[key] = {"S": value} if isinstance(value, str) else {"N": str(value)}
        self.ddb.put_item(TableName=self.table, Item=item)


def active_users(store: ProfileStore, since: float) -> Iterator[str]:
    """Users whose profile was written at or after `since` (a Scan; for batch jobs, not requests)."""
    for page in store.ddb.get_paginator("scan").paginate(
        TableName=store.table,
        FilterExpression="kind = :p AND updated_at >= :since",
        ExpressionAttributeValues={":p": {"S": PROFILE}, ":since": {"N": f"{since:.3f}"}},
    ):
        for item in page.get("Items", []):
            yield item["user_id"]["S"]


def profiles(store: ProfileStore, users: list[str]) -> dict[str, Profile]:
    """The stored profiles of `users` (BatchGetItem, 100 keys a call, unprocessed keys retried)."""
    found: dict[str, Profile] = {}
    for start in range(0, len(users), 100):
        keys: list[dict[str, Any]] = [
            {"user_id": {"S": u}, "kind": {"S": PROFILE}} for u in dict.fromkeys(users[start : start + 100])
        ]
        while keys:
            answer = store.ddb.batch_get_item(RequestItems={store.table: {"Keys": keys}})
            for item in answer.get("Responses", {}).get(store.table, []):
                found[item["user_id"]["S"]] = decode_state(item)
            keys = answer.get("UnprocessedKeys", {}).get(store.table, {}).get("Keys", [])
    return found


def store_scores(store: ProfileStore, horizon: str, scores: dict[str, float], version: str, now: float) -> None:
    expires = str(int(now + SCORE_TTL_DAYS * DAY))
    items = [
        {
            "PutRequest": {
                "Item": {
                    "user_id": {"S": user},
                    "kind": {"S": f"score#{horizon}"},
                    "probability": {"N": f"{p:.6f}"},
                    "model_version": {"S": version},
                    "scored_at": {"N": f"{now:.3f}"},
                    "expires_at": {"N": expires},
                }
            }
        }
        for user, p in scores.items()
    ]
    _write_batches(store, items)


def _write_batches(store: ProfileStore, requests: list[dict[str, Any]]) -> None:
    for start in range(0, len(requests), 25):
        batch = requests[start : start + 25]
        while batch:
            answer = store.ddb.batch_write_item(RequestItems={store.table: batch})
            batch = answer.get("UnprocessedItems", {}).get(store.table, [])


def publish_membership(
    store: ProfileStore,
    segment: str,
    members: list[tuple[str, float]],
    previous: set[str],
    *,
    day: str,
    horizon: str,
    threshold: float,
    version: str,
    now: float,
) -> int:
    """Write each member's `segment#<segment>` item and delete those of `previous` members who are no longer
    in (BatchWriteItem, 25 a call); the number deleted."""
    kind = segment_kind(segment)
    expires = str(int(now + SEGMENT_TTL_DAYS * DAY))
    current = {user for user, _ in members}
    gone = sorted(previous - current)
    requests: list[dict[str, Any]] = [
        {
            "PutRequest": {
                "Item": {
                    "user_id": {"S": user},
                    "kind": {"S": kind},
                    "day": {"S": day},
                    "probability": {"N": f"{p:.6f}"},
                    "threshold": {"N": f"{threshold:.6f}"},
                    "horizon": {"S": horizon},
                    "model_version": {"S": version},
                    "published_at": {"N": f"{now:.3f}"},
                    "expires_at": {"N": expires},
                }
            }
        }
        for user, p in members
    ]
    requests += [{"DeleteRequest": {"Key": {"user_id": {"S": user}, "kind": {"S": kind}}}} for user in gone]
    _write_batches(store, requests)
    return len(gone)


def previous_members(s3: Any, bucket: str, jobs: JobStore, now: datetime) -> set[str]:
    """Yesterday's high_intent members, from the CSV its daily run published (none if it did not run)."""
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    record = jobs.get(f"daily-{yesterday}")
    if record is None or not record.get("high_intent"):
        return set()
    body = s3.get_object(Bucket=bucket, Key=record["high_intent"])["Body"].read().decode()
    return {row["user_id"] for row in csv.DictReader(io.StringIO(body))}


def to_csv(rows: list[tuple[str, float, bool, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user_id", "probability", "cold_start", "model_version"])
    for user, p, cold, version in rows:
        writer.writerow([user, f"{p:.6f}", "true" if cold else "false", version])
    return out.getvalue().encode()


def run_job(
    request: BatchRequest,
    now: datetime,
    *,
    store: ProfileStore,
    jobs: JobStore,
    bucket: str,
    model: Any,
    version: str,
    daily: bool = False,
) -> JobResult:
    """Score the request's segment and publish it (module docstring); `model` is a PropensityModel."""
    import numpy as np

    digest = request.digest()
    previous = jobs.get(request.job_id)
    if previous is not None:
        # The rule of every idempotency key (commerce_ai.idempotency): the same request gets the first
        # answer, another request under a used job_id is a conflict (on the queue, a record for the DLQ).
        same_request("job_id", request.job_id, str(previous.get("request_sha256", "")), digest)
        if previous.get("status") == "done":
            return JobResult(
                request.job_id,
                "done",
                previous.get("output"),
                int(previous["users"]),
                int(previous["known"]),
                replayed=True,
            )
    at = now.timestamp()
    started = format_timestamp(now)
    jobs.put(request.job_id, status="running", request_sha256=digest, horizon=request.horizon, started_at=started)
    try:
        if request.user_ids is not None:
            users = list(dict.fromkeys(request.user_ids))
        else:
            users = sorted(set(active_users(store, at - (request.active_days or 1) * DAY)))
        known = profiles(store, users)
        ordered = [u for u in users if u in known]
        probabilities = (
            model.probabilities(np.asarray([feature_vector(known[u], at) for u in ordered], dtype=np.float32))
            if ordered
            else []
        )
        scores = {u: float(p) for u, p in zip(ordered, probabilities, strict=True)}
        prior = float(model.policy.prior)
        rows = [(u, scores.get(u, prior), u not in scores, version) for u in users]
        s3 = aws.client("s3")
        output = f"segments/{request.job_id}.csv"
        s3.put_object(Bucket=bucket, Key=output, Body=to_csv(rows), ContentType="text/csv")
        store_scores(store, request.horizon, scores, version, at)
        extra: dict[str, str | int | float] = {}
        high_intent = None
        if daily and scores:
            ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
            top = ranked[: max(1, math.ceil(len(ranked) * HIGH_INTENT_SHARE))]
            high_intent = len(top)
            segment = f"segments/high_intent/{now:%Y-%m-%d}.csv"
            s3.put_object(
                Bucket=bucket,
                Key=segment,
                Body=to_csv([(u, p, False, version) for u, p in top]),
                ContentType="text/csv",
            )
            dropped = publish_membership(
                store,
                HIGH_INTENT,
                top,
                previous_members(s3, bucket, jobs, now),
                day=f"{now:%Y-%m-%d}",
                horizon=request.horizon,
                threshold=top[-1][1],
                version=version,
                now=at,
            )
            extra = {
                "high_intent": segment,
                "high_intent_users": len(top),
                "high_intent_threshold": top[-1][1],
                "high_intent_dropped": dropped,
            }
        uri = f"s3://{bucket}/{output}"
        jobs.put(
            request.job_id,
            status="done",
            request_sha256=digest,
            horizon=request.horizon,
            started_at=started,
            finished_at=format_timestamp(datetime.now(now.tzinfo)),
            output=uri,
            users=len(users),
            known=len(scores),
            model_version=version,
            **extra,
        )
        return JobResult(request.job_id, "done", uri, len(users), len(scores), high_intent)
    except Exception as exc:
        jobs.put(
            request.job_id, status="failed", request_sha256=digest, error_type=type(exc).__name__, started_at=started
        )
        raise

"""The daily forecast run, fanned out: the schedule lists every SKU with a history, records a job and
queues its SKUs in chunks; each chunk forecasts its SKUs in one batch, writes their forecasts and counts
itself done once. Chunks are idempotent: a redelivered chunk rewrites the same forecasts and is not counted
again (its marker and the job's counter change in one conditional transaction). A chunk that cannot be read
fails alone (partial batch response) and reaches the DLQ after the queue's maxReceiveCount.

Job items live in the forecasting table under the partition `#jobs` (no SKU starts with `#`):
`job#<job>` holds `chunks`, `done`, `skus` and `started_at`; `job#<job>#chunk#<n>` marks a chunk done.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from commerce_ai import aws
from commerce_ai.api_fields import identifier_pattern
from commerce_ai.forecasting.contract import SKU_ID

JOBS = "#jobs"
JOB_ID = identifier_pattern("-", 64, lowercase=True)  # a path segment (api_fields)
CHUNK_SIZE = 100
MAX_CHUNK = 1000
SEND_BATCH = 10


class Chunk(BaseModel):
    """One queue message: a job's chunk of SKUs."""

    model_config = ConfigDict(extra="forbid", strict=True)

    job: str = Field(pattern=JOB_ID)
    chunk: int = Field(ge=0)
    skus: list[str] = Field(min_length=1, max_length=MAX_CHUNK)


class JobStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    job: str
    chunks: int
    done: int
    skus: int
    started_at: datetime


def job_id(moment: datetime) -> str:
    """A daily job is named by its scheduled time, so a retried schedule event is the same job."""
    return f"daily-{moment:%Y%m%dt%H%M%Sz}"


def chunks_of(job: str, skus: list[str], size: int = CHUNK_SIZE) -> list[Chunk]:
    return [Chunk(job=job, chunk=i // size, skus=skus[i : i + size]) for i in range(0, len(skus), size)]


def valid_sku(sku: str) -> bool:
    import re

    return re.fullmatch(SKU_ID, sku) is not None


class JobLog:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def _key(self, record: str) -> dict[str, Any]:
        return {"sku": {"S": JOBS}, "record": {"S": record}}

    def start(self, job: str, chunks: int, skus: int, now: datetime) -> bool:
        """Record a new job; False when it exists already (a retried schedule: its counts are kept)."""
        item = {
            **self._key(f"job#{job}"),
            "job": {"S": job},
            "chunks": {"N": str(chunks)},
            "done": {"N": "0"},
            "skus": {"N": str(skus)},
            "started_at": {"S": now.isoformat()},
        }
        try:
            self.ddb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(sku)")
        except ClientError as error:
            if aws.is_conditional_check_failure(error):
                return False
            raise
        return True

    def finish_chunk(self, job: str, chunk: int) -> bool:
        """Count a chunk done, once: False when it was counted before (a redelivery)."""
        try:
            self.ddb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": self._key(f"job#{job}#chunk#{chunk:06d}"),
                            "ConditionExpression": "attribute_not_exists(sku)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(f"job#{job}"),
                            "UpdateExpression": "ADD done :one",
                            "ConditionExpression": "attribute_exists(sku)",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException" and reasons:
                if reasons[0].get("Code") == "ConditionalCheckFailed":
                    return False  # this chunk was counted already
                if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                    raise LookupError(f"job {job} does not exist") from None
            raise
        return True

    def status(self, job: str) -> JobStatus | None:
        item = self.ddb.get_item(TableName=self.table, Key=self._key(f"job#{job}"), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return JobStatus(
            job=item["job"]["S"],
            chunks=int(item["chunks"]["N"]),
            done=int(item["done"]["N"]),
            skus=int(item["skus"]["N"]),
            started_at=datetime.fromisoformat(item["started_at"]["S"]),
        )


def send_chunks(sqs: Any, queue_url: str, chunks: list[Chunk]) -> int:
    """SendMessageBatch, ten at a time; raises if any entry is refused (the schedule is then retried)."""
    for i in range(0, len(chunks), SEND_BATCH):
        batch = chunks[i : i + SEND_BATCH]
        entries = [{"Id": str(c.chunk), "MessageBody": json.dumps(c.model_dump())} for c in batch]
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} chunk message(s) were refused by the queue")
    return len(chunks)

"""A batch job's id is an idempotency key (`commerce_ai.idempotency`): a redelivered request whose job is
done gets its first answer, and another request under a used job id is a conflict, refused before any
scoring (on the queue, a record for the DLQ)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_ai.idempotency import KeyReused
from commerce_ai.propensity.batch import BatchRequest, JobStore, run_job
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 12, 5, 4, tzinfo=UTC)


def run(request: BatchRequest, jobs: JobStore) -> Any:
    # store, bucket and model are never reached on these paths
    return run_job(request, NOW, store=None, jobs=jobs, bucket="exports", model=None, version="v1")  # type: ignore[arg-type]


def test_a_used_job_id_answers_its_own_request_and_refuses_another() -> None:
    jobs = JobStore("jobs", FakeDynamoDB(key_schemas={"jobs": ("job_id",)}))
    first = BatchRequest(job_id="segment-1", horizon="7d", user_ids=["u-1", "u-2"])
    jobs.put("segment-1", status="done", request_sha256=first.digest(), output="s3://exports/x.csv", users=2, known=1)
    replayed = run(first, jobs)
    assert (replayed.status, replayed.replayed, replayed.users) == ("done", True, 2)
    other = BatchRequest(job_id="segment-1", horizon="28d", user_ids=["u-1", "u-2"])
    with pytest.raises(KeyReused) as refused:
        run(other, jobs)
    assert refused.value.status_code == 409 and "'segment-1'" in str(refused.value)

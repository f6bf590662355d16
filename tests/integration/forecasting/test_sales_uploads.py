"""A sales file uploaded to the uploads bucket on the emulator: S3 announces it to ForecastUploadsQueue,
the upload function (run in process from the runner's SQS source) forecasts it as the CLI does, and its
forecast, plot and status land beside it; a bad file is rejected naming its line and leaves no results;
the notifications of our own results are consumed without forecasting them again."""

from __future__ import annotations

import csv
import io
import json
import threading
from typing import Any

from commerce_ai import aws
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.integration.conftest import empty_queue
from tests.support.forecasting import daily_sales_csv
from tests.support.invoke import in_process


def upload_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("ForecastUploadsQueue"))["QueueUrl"]
    arn = stack.arn("ForecastUploadsQueue")
    return QueueSource("ForecastUploadFunction", url, arn, batch_size=1, report_failures=True)


def upload_and_forecast(stack: Stack, key: str, data: bytes, metadata: dict[str, str]) -> dict[str, Any]:
    """Upload `key`, run the function on everything S3 announced, and read the status beside the upload."""
    source = upload_source(stack)
    empty_queue(source.queue_url)
    bucket = stack.physical_name("UploadsBucket")
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata)
    invoke = in_process(stack)
    handled = 0
    for _ in range(10):  # the upload, then the notifications of its results (skipped: not uploads)
        handled += source.poll_once(invoke, threading.Event(), wait_seconds=1)
        if handled >= 1 and not source.poll_once(invoke, threading.Event(), wait_seconds=1):
            break
    status = aws.client("s3").get_object(Bucket=bucket, Key=key + ".status.json")["Body"].read()
    parsed: dict[str, Any] = json.loads(status)
    return parsed


def test_an_uploaded_sales_file_is_forecast_beside_it_and_a_bad_one_rejected(stack: Stack) -> None:
    s3, bucket, key = aws.client("s3"), stack.physical_name("UploadsBucket"), "uploads/forecasts/it-sales.csv"
    status = upload_and_forecast(stack, key, daily_sales_csv(90).encode(), {"periods": "14"})
    assert (status["status"], status["periods"], status["freq"], status["series"]) == ("forecast", 14, "D", 1)
    forecast = s3.get_object(Bucket=bucket, Key=status["forecast"])["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(forecast)))
    assert len(rows) == 14 and rows[0]["date"] == "2026-04-01"
    assert all(float(r["p10"]) <= float(r["p50"]) <= float(r["p90"]) for r in rows)
    png = s3.get_object(Bucket=bucket, Key=status["plot"])
    assert png["ContentType"] == "image/png" and png["Body"].read().startswith(b"\x89PNG")
    # Only the upload was forecast: the results' own notifications reached the queue and were skipped.
    assert not aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=key + ".forecast.csv.").get("Contents")

    bad = daily_sales_csv(90).replace("2026-02-10,", "2026-02-1O,")
    status = upload_and_forecast(stack, key, bad.encode(), {})
    assert status["status"] == "rejected" and status["problem"] == "line 42: date '2026-02-1O' is not a YYYY-MM-DD date"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
    assert sorted(o["Key"] for o in listed) == [key, key + ".status.json"]  # the earlier results are gone

"""The local runner, with real worker processes, delivers S3 events and fires schedules from a template."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from commerce_ai import aws
from infra import emulator as emu
from infra.bootstrap import bootstrap
from infra.runner.local import LocalRunner
from infra.template import Env, Stack

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "recorder_template.yaml"


@pytest.fixture
def recorder(local_aws: emu.Emulator, tmp_path: Path) -> Iterator[tuple[Stack, LocalRunner]]:
    stack = Stack(FIXTURE, env=Env(stack="recorder", queue_endpoint=local_aws.endpoint))
    bootstrap(stack)
    records = stack.physical_name("RecordBucket")
    for item in aws.client("s3").list_objects_v2(Bucket=records).get("Contents", []):  # an earlier test's runner
        aws.client("s3").delete_object(Bucket=records, Key=item["Key"])
    runner = LocalRunner(stack, local_aws.environ(), log_dir=tmp_path / "logs", clock_speed=60)
    runner.start(http_port=None)
    yield stack, runner
    runner.stop()


def recorded(bucket: str, prefix: str) -> list[dict[str, object]]:
    s3 = aws.client("s3")
    items = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return [json.loads(s3.get_object(Bucket=bucket, Key=i["Key"])["Body"].read()) | {"key": i["Key"]} for i in items]


def wait_for(bucket: str, prefix: str, count: int, timeout: float = 30.0) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        found = recorded(bucket, prefix)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_s3_uploads_reach_the_function_matching_the_filter(recorder: tuple[Stack, LocalRunner]) -> None:
    stack, _ = recorder
    uploads, records = stack.physical_name("UploadBucket"), stack.physical_name("RecordBucket")
    s3 = aws.client("s3")
    s3.put_object(Bucket=uploads, Key="incoming/a b.csv", Body=b"1")
    s3.put_object(Bucket=uploads, Key="elsewhere/c.csv", Body=b"1")

    found = wait_for(records, "uploads/", 1)
    time.sleep(1.0)  # give a wrongly delivered second event the chance to show up

    assert [f["key"] for f in recorded(records, "uploads/")] == ["uploads/incoming/a b.csv"]
    assert found[0]["event"] == "ObjectCreated:Put"
    assert found[0]["function"] == "recorder-UploadRecorderFunction"
    assert found[0]["pid"] != os.getpid(), "handlers run in their function's own worker process"


def test_schedule_fires_on_a_faster_clock(recorder: tuple[Stack, LocalRunner]) -> None:
    stack, runner = recorder
    ticks = wait_for(stack.physical_name("RecordBucket"), "ticks/", 2, timeout=20)

    assert len(ticks) >= 2, "rate(1 minute) at clock x60 fires every second"
    assert {t["detail_type"] for t in ticks} == {"Scheduled Event"}
    assert all(0 < int(str(t["remaining"])) <= 10_000 for t in ticks)
    assert any(t.kind == "Schedule" and "x60" in t.description for t in runner.triggers)


def _drain(url: str, timeout: float) -> list[dict[str, object]]:
    sqs, found = aws.client("sqs"), []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        found += [json.loads(m["Body"]) if m["Body"].startswith("{") else {"body": m["Body"]} for m in messages]
        if found:
            return found
    return found


def test_an_explicit_event_source_mapping_delivers_and_dead_letters_only_the_failures(
    recorder: tuple[Stack, LocalRunner],
) -> None:
    # Given a queue whose consumer is an AWS::Lambda::EventSourceMapping (not a SAM SQS event)
    stack, runner = recorder
    sqs = aws.client("sqs")
    queue, dlq = (sqs.get_queue_url(QueueName=stack.physical_name(q))["QueueUrl"] for q in ("JobsQueue", "JobsDLQ"))
    assert any(t.kind == "SQS" and t.function == "QueueRecorderFunction" for t in runner.triggers)
    # When good messages and a poison one are sent in the same batch
    for body in ("one", "two", "poison"):
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    # then the good ones are delivered once, and only the poison one reaches the DLQ after its receives
    found = wait_for(stack.physical_name("RecordBucket"), "messages/", 2)
    assert sorted(str(f["key"]).split("/")[1] for f in found) == ["one", "two"]
    assert {f["source"] for f in found} == {stack.arn("JobsQueue")}
    assert _drain(dlq, timeout=20) == [{"body": "poison"}]


def test_a_failing_schedule_is_retried_then_its_record_goes_to_the_on_failure_queue(
    recorder: tuple[Stack, LocalRunner],
) -> None:
    stack, _ = recorder
    attempts = wait_for(stack.physical_name("RecordBucket"), "failing-ticks/", 2, timeout=20)
    assert len(attempts) >= 2  # the event and its retry
    failures = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("TickFailuresQueue"))["QueueUrl"]
    (record, *_) = _drain(failures, timeout=20)
    context = record["requestContext"]
    assert isinstance(context, dict)
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 2  # the event and MaximumRetryAttempts: 1
    assert context["functionArn"] == stack.arn("FailingTickFunction") + ":$LATEST"
    assert record["requestPayload"]["detail-type"] == "Scheduled Event"  # type: ignore[index]

"""The emulator's fix changes its speed only: queues still count, and sending or receiving counts nothing."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs import models

from infra.moto_server import COUNTS, patch_send_message


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_the_fix_applies_once_and_queues_still_count_what_they_hold() -> None:
    assert patch_send_message() and patch_send_message()  # idempotent
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for batch in range(3):
            entries = [{"Id": str(i), "MessageBody": f"m{batch}-{i}"} for i in range(10)]
            assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 10
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4)["Messages"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (len(received), counts["ApproximateNumberOfMessages"]) == (4, "26")
        assert counts["ApproximateNumberOfMessagesNotVisible"] == "4"
        assert counts["ApproximateNumberOfMessagesDelayed"] == "1"


def test_sending_reads_no_count(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_send_message()
    reads: list[str] = []
    for name in COUNTS:
        patched = getattr(models.Queue, name)

        def counting(queue: Any, name: str = name, patched: property = patched) -> int:
            value = int(patched.fget(queue))  # type: ignore[misc]
            reads.append(f"{name}={value}")
            return value

        monkeypatch.setattr(models.Queue, name, property(counting))
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(10)])
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]) == 3
        assert all(read.endswith("=0") for read in reads), reads  # while sending or receiving, counts answer 0
        reads.clear()
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert "approximate_number_of_messages=7" in reads

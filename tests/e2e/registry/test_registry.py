"""The registry from outside: a model uploaded with boto3 is validated and activated over HTTP; a poison
message reaches the DLQ."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import STACK, Running, until
from tests.support.models import built_linear

# The first test also waits for `up`, which on a new machine fetches data and trains every capability.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def publish_from_outside(up: Running, name: str, tmp_path: Path) -> str:
    """What a training pipeline on another machine does: upload the files, then the manifest."""
    return up.publish(built_linear(tmp_path, name=name))


def test_uploaded_model_is_registered_and_activated_over_http(running: Running, tmp_path: Path) -> None:
    version = publish_from_outside(running, "e2e-scorer", tmp_path)

    def registered() -> Any:
        response = requests.get(f"{running.http}/models/e2e-scorer", timeout=10)
        return response.status_code == 200 and response.json()

    described = until(registered)
    assert [v["state"] for v in described["versions"]] == ["candidate"]

    url = f"{running.http}/models/e2e-scorer/activate"
    assert requests.post(url, json={"version": version}, timeout=10).status_code == 401
    response = requests.post(url, json={"version": version}, headers={"x-api-key": running.admin_key}, timeout=10)
    assert response.status_code == 200, response.text
    listed = requests.get(f"{running.http}/models", timeout=10).json()["items"]
    assert {"name": "e2e-scorer", "active_version": version}.items() <= listed[0].items()


def test_poison_message_sent_with_boto3_reaches_the_dlq(running: Running) -> None:
    sqs = running.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-ArtifactEventsQueue")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{STACK}-ArtifactEventsDLQ")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})  # retries in seconds, not minutes
    # A receive already waiting (1 s long poll) took the old timeout with it; let it finish first.
    time.sleep(2.5)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"not": "an s3 event"}))

    def dead_lettered() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])

    (message,) = until(dead_lettered, timeout=90)
    assert json.loads(message["Body"]) == {"not": "an s3 event"}

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from infra.template import Stack
from model_build import publish
from tests.support.models import built_linear

pytestmark = pytest.mark.integration
_names = itertools.count()


@pytest.fixture
def model_name() -> str:
    """A fresh model name per test, so tests share the emulator without sharing state."""
    return f"it-model-{next(_names)}"


@pytest.fixture
def store(stack: Stack) -> ArtifactStore:
    return ArtifactStore(stack.physical_name("ArtifactBucket"))


@pytest.fixture
def registry(stack: Stack) -> ModelRegistry:
    return ModelRegistry(stack.physical_name("ModelRegistryTable"))


@pytest.fixture
def publish_linear(store: ArtifactStore, tmp_path: Path) -> Any:
    counter = itertools.count()

    def _publish(name: str, weights: list[float], version: str | None = None) -> Manifest:
        directory = tmp_path / f"{name}-{next(counter)}"
        return publish(store, built_linear(directory, name=name, weights=weights), version=version)

    return _publish


def empty_queue(url: str) -> None:
    """Delete everything visible on a queue (PurgeQueue is limited to once a minute, as on SQS)."""
    sqs = aws.client("sqs")
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )


@pytest.fixture
def fast_queue(stack: Stack) -> Iterator[tuple[str, str]]:
    """The real artifact queue and its DLQ, emptied, with a 1 s visibility timeout so retries come fast."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("ArtifactEventsQueue"))["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=stack.physical_name("ArtifactEventsDLQ"))["QueueUrl"]
    for queue in (url, dlq):
        empty_queue(queue)
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    yield url, dlq
    declared = stack.resources["ArtifactEventsQueue"]["Properties"]["VisibilityTimeout"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(declared)})

"""The daily run on the emulator: the schedule queues a job's chunks, the chunk function forecasts them
through the runner's SQS source, a redelivered chunk is counted once, and a poison chunk fails alone and
reaches the DLQ while the job's status says how many chunks are done."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.forecasting.jobs import JobLog
from commerce_ai.forecasting.model import MODEL_NAME
from commerce_ai.forecasting.store import HISTORY, ForecastingStore
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import publish
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import drain
from tests.support.forecasting import built_forecasting_demand, sales_history
from tests.support.invoke import in_process

SKUS = 250  # three chunks of at most 100


@pytest.fixture(scope="module")
def active_model(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    if registry.active_version(MODEL_NAME) is not None:
        return str(registry.active_version(MODEL_NAME))
    manifest = publish(store, built_forecasting_demand(Path(tmp_path_factory.mktemp("forecasting-demand"))))
    drain(stack, registry, MODEL_NAME, versions=len(registry.versions(MODEL_NAME)) + 1)
    registry.activate(MODEL_NAME, manifest.version)
    return manifest.version


def test_the_daily_run_counts_each_chunk_once_and_sends_poison_to_the_dlq(stack: Stack, active_model: str) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("ForecastChunksQueue"))["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=stack.physical_name("ForecastChunksDLQ"))["QueueUrl"]
    for queue in (url, dlq):
        empty_queue(queue)
    table = stack.physical_name("ForecastingTable")
    store = ForecastingStore(table)
    store.put_many((f"fan-{i:03d}", HISTORY, sales_history(f"fan-{i:03d}", seed=i)) for i in range(SKUS))
    invoke = in_process(stack)

    event = scheduled_event(stack.arn("ForecastDailyFunction"))
    summary = invoke("ForecastDailyFunction", event)
    assert summary["new"] == 1 and summary["chunks"] >= 3
    assert invoke("ForecastDailyFunction", event)["new"] == 0  # a retried schedule: the same job, kept
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": summary["job"], "chunk": "x", "skus": []}))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    try:
        source = QueueSource("ForecastChunkFunction", url, stack.arn("ForecastChunksQueue"), 10, 1, True)
        failures: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            batch = source.receive_batch(threading.Event())
            failures += source.process(batch, invoke) if batch else []
            in_dlq = int(
                sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"][
                    "ApproximateNumberOfMessages"
                ]
            )
            if in_dlq:
                break
            time.sleep(0.5)
        assert in_dlq == 1 and failures  # the poison alone failed, three times, then went to the DLQ
    finally:
        declared = stack.resources["ForecastChunksQueue"]["Properties"]["VisibilityTimeout"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(declared)})

    status = JobLog(table).status(summary["job"])
    assert status is not None
    assert (status.chunks, status.done, status.skus) == (summary["chunks"], summary["chunks"], summary["skus"])
    forecast = store.forecast("fan-042")
    assert forecast is not None and forecast.job == summary["job"] and forecast.model_version == active_model

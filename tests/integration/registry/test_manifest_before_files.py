"""A manifest that arrives before its files is retried, not quarantined at once: its record goes back to
the queue (partial batch failure) until the files are there, and only its last delivery quarantines it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import CANDIDATE, QUARANTINED, ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import manifest_for
from tests.support.invoke import in_process
from tests.support.models import built_linear

pytestmark = pytest.mark.integration


def _source(stack: Stack, url: str) -> QueueSource:
    return QueueSource("ArtifactEventsFunction", url, stack.arn("ArtifactEventsQueue"), 10, 1, True)


def _upload_manifest_only(store: ArtifactStore, directory: Path, name: str) -> tuple[str, Path]:
    """The manifest first, as an uploader that sends files in parallel may; returns (version, model file)."""
    built = built_linear(directory, name=name)
    manifest = manifest_for(built)
    aws.client("s3").put_object(
        Bucket=store.bucket, Key=manifest.prefix() + "manifest.json", Body=manifest.model_dump_json().encode()
    )
    return manifest.version, directory / "model.onnx"


def _deliver_until(source: QueueSource, stack: Stack, done: Callable[[], object], timeout: float = 30.0) -> None:
    """Poll the queue as the event source would until `done()`."""
    invoke = in_process(stack)
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the event was not handled in time"
        source.poll_once(invoke, wait_seconds=1)


def test_files_that_arrive_after_the_manifest_are_waited_for(
    stack: Stack,
    store: ArtifactStore,
    registry: ModelRegistry,
    model_name: str,
    fast_queue: tuple[str, str],
    tmp_path: Path,
) -> None:
    url, _ = fast_queue
    version, model_file = _upload_manifest_only(store, tmp_path, model_name)
    source = _source(stack, url)
    # The first delivery finds the model file missing: nothing is recorded, the record goes back.
    invoke = in_process(stack)
    while not source.stats["records"]:
        source.poll_once(invoke, wait_seconds=1)
    assert registry.versions(model_name) == []
    assert source.stats["failed"] == 1
    # The file arrives; the next delivery registers the version.
    aws.client("s3").upload_file(str(model_file), store.bucket, f"models/{model_name}/{version}/model.onnx")
    _deliver_until(source, stack, lambda: registry.versions(model_name))
    assert registry.get_version(model_name, version).state == CANDIDATE


def test_files_that_never_arrive_are_quarantined_on_the_last_delivery(
    stack: Stack,
    store: ArtifactStore,
    registry: ModelRegistry,
    model_name: str,
    fast_queue: tuple[str, str],
    tmp_path: Path,
) -> None:
    url, dlq = fast_queue
    version, _ = _upload_manifest_only(store, tmp_path, model_name)
    source = _source(stack, url)
    _deliver_until(source, stack, lambda: registry.versions(model_name))
    record = registry.get_version(model_name, version)
    assert (
        source.stats["records"]
        == stack.resources["ArtifactEventsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    )
    assert record.state == QUARANTINED and "model.onnx: missing" in (record.reason or "")
    sqs = aws.client("sqs")
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []  # a verdict, not the DLQ

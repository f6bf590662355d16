"""Corrupt or mismatched artifacts are refused; the last good version keeps serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from commerce_ai import aws
from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.errors import ModelUnavailable
from infra.template import Stack
from model_build import manifest_for
from tests.conftest import ADMIN_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.events import sample
from tests.support.invoke import in_process
from tests.support.models import FEATURES, built_linear


def corrupt(store: ArtifactStore, name: str, version: str, file: str = "model.onnx") -> None:
    aws.client("s3").put_object(Bucket=store.bucket, Key=f"models/{name}/{version}/{file}", Body=b"\x00garbage")


def score(loader: ModelLoader[Any]) -> float:
    served = loader.get().model
    return float(served.run(None, {"features": np.ones((1, 3), dtype=np.float32)})[0][0][0])


def test_corrupt_upload_is_quarantined_and_cannot_be_activated(
    stack: Stack, registry: ModelRegistry, store: ArtifactStore, model_name: str, tmp_path: Path
) -> None:
    # Given a version whose model file does not match its manifest when the notification is handled
    built = built_linear(tmp_path / "v", name=model_name)
    manifest = manifest_for(built)
    for relative in manifest.files:
        aws.client("s3").upload_file(str(built.directory / relative), store.bucket, manifest.prefix() + relative)
    corrupt(store, model_name, manifest.version)
    aws.client("s3").put_object(
        Bucket=store.bucket, Key=manifest.prefix() + "manifest.json", Body=manifest.model_dump_json().encode()
    )
    drain(stack, registry, model_name, versions=1)

    # Then validation quarantined it, with the reason, and activation is refused
    (record,) = registry.versions(model_name)
    assert record.state == "quarantined"
    assert record.reason and "checksum mismatch" in record.reason
    status, body = call(
        gateway_for(stack), "POST", f"/models/{model_name}/activate", {"version": manifest.version}, ADMIN_KEY
    )
    assert status == 409 and body["Code"] == "ConflictError"
    assert registry.active_version(model_name) is None


def test_last_good_version_keeps_serving(
    stack: Stack, registry: ModelRegistry, store: ArtifactStore, publish_linear: Any, model_name: str
) -> None:
    good = publish_linear(model_name, [1.0, 1.0, 1.0])
    tampered = publish_linear(model_name, [5.0, 5.0, 5.0])
    drain(stack, registry, model_name, versions=2)
    registry.activate(model_name, good.version)
    loader: ModelLoader[Any] = ModelLoader(model_name, expected_features=FEATURES, refresh_seconds=0)
    assert score(loader) == pytest.approx(3.0)

    # When a validated version's bytes change in S3 afterwards and it is activated
    corrupt(store, model_name, tampered.version)
    registry.activate(model_name, tampered.version)

    # Then the loader refuses it and the good version keeps answering
    assert score(loader) == pytest.approx(3.0)
    assert loader.get().version == good.version
    assert "checksum mismatch" in loader.refused[tampered.version]

    # And a fresh container falls back to the version active before it (the pointer's history) instead of
    # serving garbage; with nothing earlier to fall back on it says so
    cold: ModelLoader[Any] = ModelLoader(model_name, expected_features=FEATURES, refresh_seconds=0)
    assert (cold.get().version, cold.fallback_from) == (good.version, tampered.version)
    pinned: ModelLoader[Any] = ModelLoader(model_name, version=tampered.version, refresh_seconds=0)
    with pytest.raises(ModelUnavailable, match="checksum mismatch"):
        pinned.get()

    # And rolling back makes the pointer and the serving version agree again
    registry.rollback(model_name)
    assert loader.get().version == good.version
    assert cold.get().version == good.version


def test_schema_mismatch_is_refused_by_serving(
    stack: Stack, registry: ModelRegistry, store: ArtifactStore, model_name: str, tmp_path: Path, publish_linear: Any
) -> None:
    good = publish_linear(model_name, [1.0, 1.0, 1.0])
    from model_build import publish

    renamed = publish(store, built_linear(tmp_path / "r", name=model_name, features=["price", "units_30d", "margin"]))
    drain(stack, registry, model_name, versions=2)
    registry.activate(model_name, good.version)
    loader: ModelLoader[Any] = ModelLoader(model_name, expected_features=FEATURES, refresh_seconds=0)
    assert loader.get().version == good.version

    registry.activate(model_name, renamed.version)

    assert loader.get().version == good.version
    assert "units_30d" in loader.refused[renamed.version]


def test_reconcile_registers_versions_whose_notification_was_lost(
    stack: Stack, registry: ModelRegistry, publish_linear: Any, model_name: str
) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("ArtifactEventsQueue"))["QueueUrl"]
    version = publish_linear(model_name, [1.0, 2.0, 3.0]).version
    empty_queue(url)  # the notification is lost
    assert registry.versions(model_name) == []

    event = sample("registry/ArtifactReconcileFunction-Hourly.json")
    result = in_process(stack)("ArtifactReconcileFunction", event)

    assert result["outcomes"].get("registered", 0) >= 1
    assert [v.version for v in registry.versions(model_name)] == [version]
    assert registry.get_version(model_name, version).state == "candidate"

"""Artifacts that cannot be swapped (issue 18, part 7), on the emulator's versioned bucket: the loader serves
only the manifest digest and S3 object versions validation recorded, and a cold container whose active
version cannot load falls back to the last good one."""

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
from tests.integration.local_stack import drain
from tests.support.models import FEATURES, built_linear


def score(loader: ModelLoader[Any]) -> float:
    served = loader.get().model
    return float(served.run(None, {"features": np.ones((1, 3), dtype=np.float32)})[0][0][0])


def loader_for(name: str) -> ModelLoader[Any]:
    return ModelLoader(name, expected_features=FEATURES, refresh_seconds=0)


def test_a_swapped_version_is_refused_and_a_cold_container_falls_back(
    stack: Stack, registry: ModelRegistry, store: ArtifactStore, publish_linear: Any, model_name: str, tmp_path: Path
) -> None:
    s3 = aws.client("s3")
    good = publish_linear(model_name, [1.0, 1.0, 1.0])
    target = publish_linear(model_name, [2.0, 2.0, 2.0])
    drain(stack, registry, model_name, versions=2)
    # validation pinned the S3 object versions of the manifest and the model file
    assert set(registry.get_version(model_name, target.version).object_versions) == {"manifest.json", "model.onnx"}
    registry.activate(model_name, good.version)
    registry.activate(model_name, target.version)
    warm = loader_for(model_name)
    assert score(warm) == pytest.approx(6.0)

    # When someone who can write the bucket swaps the version's files and manifest for another model's,
    # with checksums that agree with each other
    evil = built_linear(tmp_path / "evil", name=model_name, weights=[9.0, 9.0, 9.0])
    swapped = manifest_for(evil, version=target.version)
    s3.upload_file(str(evil.directory / "model.onnx"), store.bucket, swapped.prefix() + "model.onnx")
    s3.put_object(Bucket=store.bucket, Key=swapped.prefix() + "manifest.json", Body=swapped.model_dump_json().encode())

    # Then a new container refuses it and serves the version active before it; the warm one keeps its own
    cold = loader_for(model_name)
    assert score(cold) == pytest.approx(3.0)
    assert cold.fallback_from == target.version
    assert "manifest.json was replaced after validation" in cold.refused[target.version]
    assert score(warm) == pytest.approx(6.0)

    # And even byte-identical objects written over a validated version are refused by their S3 version
    manifest_key = good.prefix() + "manifest.json"
    same = s3.get_object(Bucket=store.bucket, Key=manifest_key)["Body"].read()
    s3.put_object(Bucket=store.bucket, Key=manifest_key, Body=same)
    with pytest.raises(ModelUnavailable, match="replaced after validation"):
        loader_for(model_name).get()

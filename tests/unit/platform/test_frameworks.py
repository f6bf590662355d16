"""commerce_ai.artifacts.frameworks: opening a real (tiny) ONNX model and checking it against its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from commerce_ai.artifacts import frameworks
from commerce_ai.artifacts.frameworks import SchemaMismatch, open_artifact, open_onnx, register_opener
from commerce_ai.artifacts.manifest import Manifest
from model_build import manifest_for
from tests.support.models import FEATURES, built_linear


@pytest.fixture
def linear(tmp_path: Path) -> tuple[Manifest, Path]:
    built = built_linear(tmp_path / "model", weights=[1.0, 2.0, 3.0])
    return manifest_for(built, version="v1"), built.directory


def changed(manifest: Manifest, **updates: Any) -> Manifest:
    """A re-validated copy of `manifest` with top-level fields replaced."""
    return Manifest.model_validate({**manifest.model_dump(), **updates})


def test_a_matching_manifest_opens_and_the_model_scores(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    session = open_onnx(manifest, directory)
    rows = np.asarray([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]], dtype=np.float32)
    (scores,) = session.run(["score"], {"features": rows})
    assert scores.tolist() == [[6.0], [-1.0]]


def test_open_artifact_dispatches_on_framework(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    assert open_artifact(manifest, directory).get_inputs()[0].name == "features"


def test_sessions_are_cached_per_file_and_checksum(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    assert open_onnx(manifest, directory) is open_onnx(manifest, directory)


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        (
            {"name": "x", "dtype": "float32", "shape": [None, 3]},
            r"input names \['features'\] differ from manifest \['x'\]",
        ),
        (
            {"name": "features", "dtype": "float64", "shape": [None, 3]},
            "input 'features' is float32, manifest says float64",
        ),
        ({"name": "features", "dtype": "int64", "shape": [None, 3]}, "is float32, manifest says int64"),
        ({"name": "features", "dtype": "float32", "shape": [None, 4]}, "has shape .* manifest says \\[None, 4\\]"),
        ({"name": "features", "dtype": "float32", "shape": [None]}, "has rank 2, manifest says 1"),
        ({"name": "features", "dtype": "float32", "shape": [None, 3, 1]}, "has rank 2, manifest says 3"),
    ],
)
def test_input_mismatches_are_refused(linear: tuple[Manifest, Path], tensor: dict[str, Any], message: str) -> None:
    manifest, directory = linear
    width = tensor["shape"][-1] if tensor["shape"] else None
    names = FEATURES if width == 3 else []
    wrong = changed(manifest, input_schema={"tensors": [tensor], "feature_names": names})
    with pytest.raises(SchemaMismatch, match=message):
        open_onnx(wrong, directory)


def test_an_extra_declared_input_is_refused(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    tensors = [t.model_dump() for t in manifest.input_schema.tensors]
    extra = {"name": "mask", "dtype": "bool", "shape": [None]}
    wrong = changed(manifest, input_schema={"tensors": [*tensors, extra], "feature_names": FEATURES})
    with pytest.raises(SchemaMismatch, match="input names"):
        open_onnx(wrong, directory)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"name": "probability", "dtype": "float32", "shape": [None, 1]}, "output names"),
        ({"name": "score", "dtype": "float64", "shape": [None, 1]}, "output 'score' is float32"),
        ({"name": "score", "dtype": "float32", "shape": [None, 2]}, "output 'score' has shape"),
    ],
)
def test_output_mismatches_are_refused(linear: tuple[Manifest, Path], output: dict[str, Any], message: str) -> None:
    manifest, directory = linear
    with pytest.raises(SchemaMismatch, match=message):
        open_onnx(changed(manifest, output_schema=[output]), directory)


def test_a_declared_free_dimension_accepts_a_fixed_one(linear: tuple[Manifest, Path]) -> None:
    # The model's width is a fixed 3; a manifest leaving it free (None) is not a contradiction.
    manifest, directory = linear
    free = changed(
        manifest,
        input_schema={
            "tensors": [{"name": "features", "dtype": "float32", "shape": [None, None]}],
            "feature_names": FEATURES,
        },
    )
    open_onnx(free, directory)


def _garbage_onnx(manifest: Manifest, directory: Path) -> Manifest:
    """The same manifest over a model file whose bytes are not ONNX but whose checksum is right."""
    from commerce_ai.artifacts.manifest import describe_files

    (directory / "model.onnx").write_bytes(b"not a model")
    return changed(manifest, files={k: v.model_dump() for k, v in describe_files(directory).items()})


def test_bytes_that_are_not_onnx_do_not_open(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    with pytest.raises(Exception, match=r"INVALID_PROTOBUF|Protobuf parsing failed"):
        open_onnx(_garbage_onnx(manifest, directory), directory)


# The loader (loader.py) and the validator (service.validate_version) refuse a version only on these.
REFUSED_ON = (SchemaMismatch, OSError, ValueError, RuntimeError)


def test_an_unreadable_model_fails_with_an_error_the_callers_refuse_on(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    with pytest.raises(REFUSED_ON):
        open_onnx(_garbage_onnx(manifest, directory), directory)


@pytest.mark.parametrize("framework", ["booster"])
def test_a_framework_without_an_opener_is_refused(linear: tuple[Manifest, Path], framework: str) -> None:
    manifest, directory = linear
    with pytest.raises(SchemaMismatch, match=f"no opener for framework '{framework}'"):
        open_artifact(changed(manifest, framework=framework), directory)


def test_a_capabilitys_openers_module_is_discovered_for_its_framework() -> None:
    from commerce_ai.artifacts import frameworks

    assert "commerce_ai.visual.openers" in frameworks.discover_openers()
    assert "faiss" in frameworks._OPENERS


def test_json_artifacts_open_as_data(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    (directory / "table.json").write_text(json.dumps({"a": [1, 2]}))
    as_json = changed(
        manifest,
        framework="json",
        entrypoint="table.json",
        files={
            **{k: v.model_dump() for k, v in manifest.files.items()},
            "table.json": {"sha256": "c" * 64, "bytes": 1},
        },
    )
    assert open_artifact(as_json, directory) == {"a": [1, 2]}


def test_register_opener_adds_a_framework(linear: tuple[Manifest, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, directory = linear
    monkeypatch.setattr(frameworks, "_OPENERS", dict(frameworks._OPENERS))  # undone after the test
    calls: list[tuple[str, Path]] = []

    def open_booster(m: Manifest, d: Path) -> str:
        calls.append((m.entrypoint, d))
        return "booster!"

    register_opener("booster", open_booster)
    assert open_artifact(changed(manifest, framework="booster"), directory) == "booster!"
    assert calls == [("model.onnx", directory)]


def _with_external_weights(manifest: Manifest, directory: Path, location: str) -> Manifest:
    """The linear model with its weights moved to external data at `location` (relative to the model)."""
    import onnx

    from commerce_ai.artifacts.manifest import describe_files

    model = onnx.load(str(directory / "model.onnx"))
    weights = next(t for t in model.graph.initializer if t.name == "w")
    data = weights.raw_data or np.asarray(weights.float_data, dtype=np.float32).tobytes()
    external = (directory / location).resolve()
    external.parent.mkdir(parents=True, exist_ok=True)
    external.write_bytes(data)
    weights.ClearField("float_data")
    weights.ClearField("raw_data")
    for key, value in (("location", location), ("length", str(len(data)))):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    weights.data_location = onnx.TensorProto.EXTERNAL
    onnx.save(model, str(directory / "model.onnx"))
    files = {k: v.model_dump() for k, v in describe_files(directory).items()}
    return changed(manifest, files=files)


def test_onnx_external_data_inside_the_version_and_listed_opens(linear: tuple[Manifest, Path]) -> None:
    manifest, directory = linear
    inside = _with_external_weights(manifest, directory, "weights.bin")
    assert "weights.bin" in inside.files
    frameworks.check_external_data(inside, directory)  # listed, inside: accepted
    rows = np.asarray([[1.0, 1.0, 1.0]], dtype=np.float32)
    assert open_onnx(inside, directory).run(["score"], {"features": rows})[0].tolist() == [[6.0]]


@pytest.mark.parametrize("location", ["../outside.bin", "sub/../../outside.bin"])
def test_onnx_external_data_outside_the_version_is_refused(linear: tuple[Manifest, Path], location: str) -> None:
    manifest, directory = linear
    outside = _with_external_weights(manifest, directory, location)
    with pytest.raises(ValueError, match="is not a file of this version"):
        open_onnx(outside, directory)


def test_a_models_own_opener_is_used_and_its_failures_refuse_the_version(
    linear: tuple[Manifest, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, directory = linear
    monkeypatch.setattr(frameworks, "_MODEL_OPENERS", dict(frameworks._MODEL_OPENERS))

    def needs_policy(m: Manifest, d: Path) -> str:
        return (d / "policy.json").read_text()

    frameworks.register_model_opener(manifest.name, needs_policy)
    with pytest.raises(SchemaMismatch, match="does not open as it is served: FileNotFoundError"):
        open_artifact(manifest, directory)
    (directory / "policy.json").write_text("{}")
    assert open_artifact(manifest, directory) == "{}"


# Models that serving opens with their framework's own opener (faiss, onnx), so validation needs no other.
SERVED_BY_FRAMEWORK = {"visual-index", "visual-scene"}


def test_every_capabilitys_model_openers_are_discovered() -> None:
    import model_build

    frameworks.discover_openers()
    models = {name for cap in model_build.CAPABILITIES for name in model_build.capability(cap).MODELS}
    assert models - SERVED_BY_FRAMEWORK <= set(frameworks._MODEL_OPENERS), "a model validates as it is served"

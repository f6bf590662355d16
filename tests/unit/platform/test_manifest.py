"""commerce_ai.artifacts.manifest: what a valid artifact manifest is, and its helpers."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from commerce_ai.artifacts.manifest import (
    MANIFEST_FILE,
    NAME_PATTERN,
    VERSION_PATTERN,
    FileEntry,
    InputSchema,
    Manifest,
    describe_files,
    new_version,
    parse_manifest_key,
    sha256_file,
    version_prefix,
)

SHA = "a" * 64


def manifest_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "demo-scorer",
        "version": "20260101T000000Z-abcdef12",
        "created_at": "2026-01-01T00:00:00+00:00",
        "git_commit": "abcdef1234",
        "framework": "onnx",
        "entrypoint": "model.onnx",
        "input_schema": {
            "tensors": [{"name": "features", "dtype": "float32", "shape": [None, 3]}],
            "feature_names": ["price", "units_7d", "margin"],
        },
        "output_schema": [{"name": "score", "dtype": "float32", "shape": [None, 1]}],
        "training_data": {"fingerprint": "f" * 64, "source": "unit test"},
        "metrics": {"auc": 0.9},
        "files": {"model.onnx": {"sha256": SHA, "bytes": 10}},
    }
    data.update(overrides)
    return data


def errors_of(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        Manifest.model_validate(data)
    return str(caught.value)


def test_a_complete_manifest_is_valid_and_round_trips_through_json() -> None:
    manifest = Manifest.model_validate(manifest_data())
    assert Manifest.model_validate_json(manifest.model_dump_json()) == manifest
    assert manifest.prefix() == "models/demo-scorer/20260101T000000Z-abcdef12/"


def test_summary_keeps_what_the_registry_needs_without_files() -> None:
    summary = Manifest.model_validate(manifest_data()).summary()
    assert summary == {
        "framework": "onnx",
        "created_at": "2026-01-01T00:00:00+00:00",
        "git_commit": "abcdef1234",
        "metrics": {"auc": 0.9},
        "training_data": {"fingerprint": "f" * 64, "source": "unit test", "rows": None},
        "feature_names": ["price", "units_7d", "margin"],
    }


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../outside.onnx", "sub/../../outside", "a/../b", "..", MANIFEST_FILE],
)
def test_unsafe_file_paths_are_rejected(path: str) -> None:
    files = {"model.onnx": {"sha256": SHA, "bytes": 1}, path: {"sha256": SHA, "bytes": 1}}
    assert "must be relative, inside the version and not the manifest" in errors_of(manifest_data(files=files))


@pytest.mark.parametrize("path", ["weights/part-1.bin", "sub/manifest.json", "a..b", "..hidden"])
def test_nested_and_dotted_names_inside_the_version_are_fine(path: str) -> None:
    files = {"model.onnx": {"sha256": SHA, "bytes": 1}, path: {"sha256": SHA, "bytes": 1}}
    assert path in Manifest.model_validate(manifest_data(files=files)).files


@pytest.mark.parametrize("path", ["", ".", "./manifest.json"])
def test_paths_that_normalise_to_the_version_dir_or_the_manifest_are_rejected(path: str) -> None:
    files = {"model.onnx": {"sha256": SHA, "bytes": 1}, path: {"sha256": SHA, "bytes": 1}}
    errors_of(manifest_data(files=files))


def test_the_entrypoint_must_be_one_of_the_files() -> None:
    assert "entrypoint 'other.onnx' is not among the manifest's files" in errors_of(
        manifest_data(entrypoint="other.onnx")
    )


def test_files_may_not_be_empty() -> None:
    errors_of(manifest_data(files={}))


@pytest.mark.parametrize(
    "entry",
    [
        {"sha256": "A" * 64, "bytes": 1},
        {"sha256": "a" * 63, "bytes": 1},
        {"sha256": SHA, "bytes": -1},
        {"sha256": SHA, "bytes": 1, "extra": True},
    ],
)
def test_file_entries_need_a_lowercase_sha256_and_a_size(entry: dict[str, Any]) -> None:
    errors_of(manifest_data(files={"model.onnx": entry}))


def test_feature_names_must_match_the_first_tensor_width() -> None:
    schema = {"tensors": [{"name": "features", "dtype": "float32", "shape": [None, 3]}], "feature_names": ["a", "b"]}
    assert "2 feature names but tensor 'features' has width 3" in errors_of(manifest_data(input_schema=schema))


def test_feature_names_must_be_unique() -> None:
    schema = {"tensors": [{"name": "f", "dtype": "float32", "shape": [None, 3]}], "feature_names": ["a", "b", "a"]}
    assert "feature names are not unique" in errors_of(manifest_data(input_schema=schema))


def test_a_free_width_or_scalar_tensor_accepts_any_feature_count() -> None:
    for shape in ([None, None], []):
        schema = InputSchema.model_validate(
            {"tensors": [{"name": "f", "dtype": "float32", "shape": shape}], "feature_names": ["a", "b"]}
        )
        assert schema.feature_names == ["a", "b"]


def test_an_input_schema_needs_a_tensor() -> None:
    errors_of(manifest_data(input_schema={"tensors": [], "feature_names": []}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Demo"),
        ("name", "-demo"),
        ("name", "demo_scorer"),
        ("name", "a" * 64),
        ("name", ""),
        ("name", "demo/x"),
        ("version", ".v1"),
        ("version", "v 1"),
        ("version", "v/1"),
        ("version", "v" * 65),
        ("framework", "pytorch"),
        ("git_commit", ""),
        ("output_schema", []),
        ("unexpected", "field"),
    ],
)
def test_bad_fields_are_rejected(field: str, value: Any) -> None:
    errors_of(manifest_data(**{field: value}))


@pytest.mark.parametrize("dtype", ["float16", "double", "int8"])
def test_unknown_dtypes_are_rejected(dtype: str) -> None:
    output = [{"name": "score", "dtype": dtype, "shape": [None, 1]}]
    errors_of(manifest_data(output_schema=output))


@given(st.from_regex(NAME_PATTERN, fullmatch=True), st.from_regex(VERSION_PATTERN, fullmatch=True))
def test_any_name_and_version_matching_the_patterns_is_accepted(name: str, version: str) -> None:
    manifest = Manifest.model_validate(manifest_data(name=name, version=version))
    assert (manifest.name, manifest.version) == (name, version)


# ----------------------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("models/demo/v1/manifest.json", ("demo", "v1")),
        ("models/demo/v1/model.onnx", None),
        ("models/demo/v1/sub/manifest.json", None),
        ("models/demo/manifest.json", None),
        ("other/demo/v1/manifest.json", None),
        ("models/demo/v1/manifest.json.bak", None),
        ("xmodels/demo/v1/manifest.json", None),
        ("models//v1/manifest.json", None),
    ],
)
def test_parse_manifest_key(key: str, parsed: tuple[str, str] | None) -> None:
    assert parse_manifest_key(key) == parsed


@given(st.from_regex(NAME_PATTERN, fullmatch=True), st.from_regex(VERSION_PATTERN, fullmatch=True))
def test_manifest_keys_round_trip(name: str, version: str) -> None:
    assert parse_manifest_key(version_prefix(name, version) + MANIFEST_FILE) == (name, version)


# ----------------------------------------------------------------------------------- files


def test_sha256_file_matches_hashlib_across_read_blocks(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # > 2 MiB: several 1 MiB blocks plus a tail
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == hashlib.sha256(b"").hexdigest()


def test_describe_files_lists_every_file_but_the_top_level_manifest(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"onnx")
    (tmp_path / MANIFEST_FILE).write_text("{}")
    (tmp_path / "extra" / "deep").mkdir(parents=True)
    (tmp_path / "extra" / "deep" / "vocab.txt").write_text("a\nb\n")
    (tmp_path / "extra" / MANIFEST_FILE).write_text("nested is data")
    (tmp_path / "empty-dir").mkdir()
    described = describe_files(tmp_path)
    assert list(described) == ["extra/deep/vocab.txt", "extra/manifest.json", "model.onnx"]
    assert described["model.onnx"] == FileEntry(sha256=hashlib.sha256(b"onnx").hexdigest(), bytes=4)
    assert described["extra/deep/vocab.txt"].bytes == 4


def test_describe_files_of_an_empty_directory_is_empty(tmp_path: Path) -> None:
    assert describe_files(tmp_path) == {}


# ----------------------------------------------------------------------------------- versions


def test_new_version_is_a_utc_stamp_the_short_commit_and_a_random_suffix() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert re.fullmatch(r"20260304T050607Z-01234567-[0-9a-f]{6}", new_version(when, "0123456789abcdef"))
    assert re.fullmatch(r"20260304T050607Z-abc-[0-9a-f]{6}", new_version(when, "abc"))
    for no_commit in ("unknown", None, ""):
        assert re.fullmatch(r"20260304T050607Z-nocommit-[0-9a-f]{6}", new_version(when, no_commit))


def test_two_builds_in_the_same_second_get_different_versions() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert len({new_version(when, "abcdef12") for _ in range(50)}) == 50


def test_new_versions_sort_in_time_order_and_are_valid_versions() -> None:
    earlier = new_version(datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC), "ffffffff")
    later = new_version(datetime(2026, 1, 2, 0, 0, 0, tzinfo=UTC), "00000000")
    assert earlier < later
    assert re.fullmatch(VERSION_PATTERN, new_version(commit="0123456789abcdef-dirty"))
    assert re.fullmatch(r"\d{8}T\d{6}Z-nocommit-[0-9a-f]{6}", new_version())

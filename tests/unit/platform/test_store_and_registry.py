"""The S3 store and DynamoDB registry adapters over in-memory clients: immutability, verification, pointer."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerce_ai.artifacts.manifest import Manifest, describe_files
from commerce_ai.artifacts.registry import CANDIDATE, POINTER, QUARANTINED, ModelRegistry
from commerce_ai.artifacts.store import ArtifactError, ArtifactStore, clear_cache
from commerce_ai.errors import Conflict, NotFound
from tests.unit.fakes import FakeDynamoDB, FakeS3, client_error, make_manifest

BUCKET = "artifacts"
NAME = "demo-scorer"


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def store(s3: FakeS3) -> ArtifactStore:
    return ArtifactStore(BUCKET, s3=s3)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    directory = tmp_path / "src"
    (directory / "sub").mkdir(parents=True)
    (directory / "model.json").write_text('{"w": [1, 2, 3]}')
    (directory / "sub" / "vocab.txt").write_text("a\nb\n")
    return directory


def manifest_for_dir(directory: Path, version: str = "v1") -> Manifest:
    files = {k: (v.sha256, v.bytes) for k, v in describe_files(directory).items()}
    files = {"model.json": files.pop("model.json"), **files}
    return make_manifest(NAME, version, files=files)


# ------------------------------------------------------------------------------------------ store


def test_publish_uploads_files_then_the_manifest(store: ArtifactStore, s3: FakeS3, source: Path) -> None:
    manifest = manifest_for_dir(source)
    assert store.publish(manifest, source) == f"models/{NAME}/v1/manifest.json"
    assert sorted(k for _, k in s3.objects) == [
        f"models/{NAME}/v1/manifest.json",
        f"models/{NAME}/v1/model.json",
        f"models/{NAME}/v1/sub/vocab.txt",
    ]
    assert store.read_manifest(NAME, "v1") == manifest


def test_publishing_an_existing_version_is_refused(store: ArtifactStore, s3: FakeS3, source: Path) -> None:
    store.publish(manifest_for_dir(source), source)
    before = dict(s3.objects)
    (source / "model.json").write_text('{"w": [9]}')
    with pytest.raises(ArtifactError, match="already exists; versions are immutable"):
        store.publish(manifest_for_dir(source), source)
    assert s3.objects == before


def test_publish_propagates_other_s3_errors(store: ArtifactStore, s3: FakeS3, source: Path) -> None:
    s3.fail_with = client_error("AccessDenied", "HeadObject")
    with pytest.raises(Exception, match="AccessDenied"):
        store.publish(manifest_for_dir(source), source)


def test_download_verifies_and_reuses_the_cache(store: ArtifactStore, s3: FakeS3, source: Path, tmp_path: Path) -> None:
    manifest = manifest_for_dir(source)
    store.publish(manifest, source)
    cache = tmp_path / "cache"
    target = store.download(manifest, cache)
    assert target == cache / NAME / "v1"
    assert (target / "sub" / "vocab.txt").read_text() == "a\nb\n"
    # A second download with the bucket unreachable is served from the verified cache.
    s3.fail_with = client_error("InternalError")
    assert store.download(manifest, cache) == target


def test_download_replaces_a_damaged_cached_file(store: ArtifactStore, source: Path, tmp_path: Path) -> None:
    manifest = manifest_for_dir(source)
    store.publish(manifest, source)
    target = store.download(manifest, tmp_path / "cache")
    (target / "model.json").write_text("damaged")
    store.download(manifest, tmp_path / "cache")
    assert (target / "model.json").read_text() == '{"w": [1, 2, 3]}'


def test_a_checksum_mismatch_leaves_nothing_behind(
    store: ArtifactStore, s3: FakeS3, source: Path, tmp_path: Path
) -> None:
    manifest = manifest_for_dir(source)
    store.publish(manifest, source)
    s3.objects[(BUCKET, f"models/{NAME}/v1/model.json")] = b"tampered"
    with pytest.raises(ArtifactError, match=r"checksum mismatch for model\.json"):
        store.download(manifest, tmp_path / "cache")
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert "model.json" not in leftovers and "model.json.part" not in leftovers


def test_a_missing_file_is_an_artifact_error(store: ArtifactStore, s3: FakeS3, source: Path, tmp_path: Path) -> None:
    manifest = manifest_for_dir(source)
    store.publish(manifest, source)
    del s3.objects[(BUCKET, f"models/{NAME}/v1/sub/vocab.txt")]
    with pytest.raises(ArtifactError, match=r"cannot fetch sub/vocab\.txt"):
        store.download(manifest, tmp_path / "cache")


def test_read_manifest_errors(store: ArtifactStore, s3: FakeS3) -> None:
    # Reasons reach the registry and GET /models: they name the key, never the bucket (its name holds the
    # account id in AWS).
    with pytest.raises(ArtifactError, match=r"no manifest at models/demo-scorer/v1/manifest\.json") as missing:
        store.read_manifest(NAME, "v1")
    assert BUCKET not in str(missing.value)
    s3.objects[(BUCKET, f"models/{NAME}/v1/manifest.json")] = b"\xff"
    with pytest.raises(ArtifactError, match="is invalid"):
        store.read_manifest(NAME, "v1")
    s3.fail_with = client_error("SlowDown", "GetObject")
    with pytest.raises(Exception, match="SlowDown"):
        store.read_manifest(NAME, "v1")


def test_manifest_keys_lists_every_version_across_pages(store: ArtifactStore, s3: FakeS3) -> None:
    for version in ("v1", "v2", "v3"):
        s3.objects[(BUCKET, f"models/{NAME}/{version}/manifest.json")] = b"{}"
        s3.objects[(BUCKET, f"models/{NAME}/{version}/model.onnx")] = b""
    s3.objects[(BUCKET, "models/other/v1/manifest.json")] = b"{}"
    s3.objects[(BUCKET, "readme.txt")] = b""
    s3.objects[("another-bucket", "models/x/v1/manifest.json")] = b"{}"
    assert sorted(store.manifest_keys()) == [(NAME, "v1"), (NAME, "v2"), (NAME, "v3"), ("other", "v1")]


def test_clear_cache_removes_one_version(tmp_path: Path) -> None:
    (tmp_path / NAME / "v1").mkdir(parents=True)
    (tmp_path / NAME / "v2").mkdir(parents=True)
    clear_cache(tmp_path, NAME, "v1")
    clear_cache(tmp_path, NAME, "v9")  # absent: fine
    assert [p.name for p in (tmp_path / NAME).iterdir()] == ["v2"]


# ------------------------------------------------------------------------------------------ registry


@pytest.fixture
def ddb() -> FakeDynamoDB:
    return FakeDynamoDB()


@pytest.fixture
def registry(ddb: FakeDynamoDB) -> ModelRegistry:
    found = ModelRegistry("registry-table", dynamodb=ddb)
    for version in ("v1", "v2", "v3"):
        found.register_candidate(NAME, version, f"sha-{version}", {"metrics": {"v": version}})
    found.quarantine(NAME, "bad", "sha-bad", "checksum mismatch")
    return found


def test_register_candidate_is_idempotent_for_the_same_manifest(registry: ModelRegistry) -> None:
    assert registry.register_candidate(NAME, "v4", "sha-v4", {}) is True
    assert registry.register_candidate(NAME, "v4", "sha-v4", {}) is False
    assert registry.get_version(NAME, "v4").state == CANDIDATE


def test_a_changed_manifest_quarantines_the_version(registry: ModelRegistry) -> None:
    assert registry.register_candidate(NAME, "v1", "sha-other", {}) is False
    record = registry.get_version(NAME, "v1")
    assert (record.state, record.reason, record.manifest_sha256) == (
        QUARANTINED,
        "manifest changed after registration",
        "sha-other",
    )


def test_versions_excludes_the_pointer_and_models_lists_names(registry: ModelRegistry) -> None:
    registry.activate(NAME, "v1")
    registry.register_candidate("another", "v1", "s", {})
    assert sorted(v.version for v in registry.versions(NAME)) == ["bad", "v1", "v2", "v3"]
    assert registry.models() == ["another", NAME]
    with pytest.raises(NotFound):
        registry.get_version(NAME, POINTER)


def test_activate_records_history_and_rollback_walks_it_back(registry: ModelRegistry) -> None:
    assert registry.pointer(NAME) is None and registry.active_version(NAME) is None
    registry.activate(NAME, "v1")
    registry.activate(NAME, "v2")
    pointer = registry.activate(NAME, "v3")
    assert (pointer.active_version, pointer.history) == ("v3", ["v1", "v2"])
    assert registry.rollback(NAME).active_version == "v2"
    assert registry.rollback(NAME).active_version == "v1"
    with pytest.raises(Conflict, match="no earlier usable version"):
        registry.rollback(NAME)


def test_activating_the_active_version_changes_nothing(registry: ModelRegistry) -> None:
    registry.activate(NAME, "v1")
    assert registry.activate(NAME, "v1").history == []


def test_quarantined_versions_cannot_be_activated_and_are_skipped_on_rollback(registry: ModelRegistry) -> None:
    with pytest.raises(Conflict, match="quarantined"):
        registry.activate(NAME, "bad")
    registry.activate(NAME, "v1")
    registry.activate(NAME, "v2")
    registry.activate(NAME, "v3")
    registry.quarantine(NAME, "v2", "sha-v2", "found broken later")
    assert registry.rollback(NAME).active_version == "v1"


def test_activating_an_unknown_version_is_not_found(registry: ModelRegistry) -> None:
    with pytest.raises(NotFound):
        registry.activate(NAME, "v9")


def test_a_concurrent_change_is_a_conflict(registry: ModelRegistry, ddb: FakeDynamoDB) -> None:
    registry.activate(NAME, "v1")
    stale = registry.pointer(NAME)
    other_admin = ModelRegistry("registry-table", dynamodb=ddb)
    other_admin.activate(NAME, "v2")
    with pytest.raises(Conflict, match="changed concurrently"):
        registry._swap_pointer(NAME, stale, "v3", ["v1"])
    assert registry.active_version(NAME) == "v2"


def test_the_first_activation_races_are_conflicts_too(registry: ModelRegistry) -> None:
    registry.activate(NAME, "v1")
    with pytest.raises(Conflict):
        registry._swap_pointer(NAME, None, "v2", [])


def test_history_is_capped(registry: ModelRegistry) -> None:
    for i in range(60):
        registry.register_candidate(NAME, f"h{i}", "s", {})
        registry.activate(NAME, f"h{i}")
    pointer = registry.pointer(NAME)
    assert pointer is not None and len(pointer.history) == 50 and pointer.history[-1] == "h58"


def test_other_dynamodb_errors_propagate(registry: ModelRegistry, ddb: FakeDynamoDB) -> None:
    ddb.fail_with = client_error("ProvisionedThroughputExceededException")
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        registry.activate(NAME, "v1")

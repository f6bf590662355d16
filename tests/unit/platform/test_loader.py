"""commerce_ai.artifacts.loader.ModelLoader with fake store, registry and clock.

The loader's promises: serve the active version; re-read the pointer at most every `refresh_seconds`;
refuse (and remember) a version that is corrupt or does not fit, keeping the last good one; registry
blips keep the cached model; with nothing good to serve, ModelUnavailable (HTTP 503).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest

from commerce_ai.artifacts.frameworks import SchemaMismatch
from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.artifacts.registry import CANDIDATE, QUARANTINED, ModelRegistry, Pointer, VersionRecord
from commerce_ai.artifacts.store import ArtifactError, ArtifactStore
from commerce_ai.artifacts.validation import manifest_digest
from commerce_ai.config import ConfigError
from commerce_ai.errors import ModelUnavailable, NotFound
from tests.unit.fakes import FEATURES, FakeClock, client_error, make_manifest

NAME = "demo-scorer"
REFRESH = 30.0


class FakeRegistry:
    """The registry port the loader uses: pointer(name), and get_version(name, version) for what validation
    recorded (here: every manifest the store holds, as validated, unless `records` says otherwise)."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}
        self.history: list[str] = []
        self.lookups = 0
        self.error: Exception | None = None
        self.store: FakeStore | None = None
        self.records: dict[str, VersionRecord] = {}

    def pointer(self, name: str) -> Pointer | None:
        self.lookups += 1
        if self.error is not None:
            raise self.error
        active = self.active.get(name)
        return Pointer(name, active, list(self.history), "") if active is not None else None

    def get_version(self, name: str, version: str) -> VersionRecord:
        if version in self.records:
            return self.records[version]
        manifest = self.store.manifests.get((name, version)) if self.store is not None else None
        digest = manifest_digest(manifest) if manifest is not None else "none"
        return VersionRecord(name, version, CANDIDATE, "2026-12-05T10:00:00Z", digest, {})


class FakeStore:
    """The store port the loader uses: read_manifest and download (which verifies checksums)."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], Manifest] = {}
        self.corrupt: set[str] = set()
        self.read_error: Exception | None = None
        self.downloads: list[str] = []

    def add(self, version: str, features: list[str] | None = None) -> None:
        self.manifests[(NAME, version)] = make_manifest(NAME, version, features)

    def read_manifest(self, name: str, version: str, object_version: str | None = None) -> Manifest:
        if self.read_error is not None:
            raise self.read_error
        if (name, version) not in self.manifests:
            raise ArtifactError(f"no manifest for {name}/{version}")
        return self.manifests[(name, version)]

    def download(self, manifest: Manifest, cache_root: Path, object_versions: Any = None) -> Path:
        self.downloads.append(manifest.version)
        if manifest.version in self.corrupt:
            raise ArtifactError(f"{manifest.name}/{manifest.version}: checksum mismatch for model.json")
        target = cache_root / manifest.name / manifest.version
        target.mkdir(parents=True, exist_ok=True)
        return target


class Opener:
    def __init__(self) -> None:
        self.opened: list[str] = []
        self.fail: dict[str, Exception] = {}

    def __call__(self, manifest: Manifest, directory: Path) -> str:
        self.opened.append(manifest.version)
        if manifest.version in self.fail:
            raise self.fail[manifest.version]
        return f"model-{manifest.version}"


def build(
    registry: FakeRegistry, store: FakeStore, opener: Opener, clock: FakeClock, cache: Path, **options: Any
) -> ModelLoader[str]:
    """A loader over the fakes (they implement the ports it uses, not the full adapter classes)."""
    options.setdefault("refresh_seconds", REFRESH)
    registry.store = store
    return ModelLoader(
        NAME,
        registry=cast(Any, registry),
        store=cast(Any, store),
        cache_dir=cache,
        opener=opener,
        clock=clock,
        **options,
    )


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def store() -> FakeStore:
    found = FakeStore()
    for version in ("v1", "v2", "v3"):
        found.add(version)
    return found


@pytest.fixture
def opener() -> Opener:
    return Opener()


@pytest.fixture
def loader(
    registry: FakeRegistry, store: FakeStore, opener: Opener, clock: FakeClock, tmp_path: Path
) -> ModelLoader[str]:
    return build(registry, store, opener, clock, tmp_path, expected_features=FEATURES)


def activate(registry: FakeRegistry, version: str) -> None:
    registry.active[NAME] = version


def test_serves_the_active_version(loader: ModelLoader[str], registry: FakeRegistry, tmp_path: Path) -> None:
    activate(registry, "v1")
    loaded = loader.get()
    assert (loaded.name, loaded.version, loaded.model) == (NAME, "v1", "model-v1")
    assert loaded.manifest.version == "v1"
    assert loaded.directory == tmp_path / NAME / "v1"
    assert loader.current is loaded


def test_does_not_reread_the_pointer_before_refresh_seconds(
    loader: ModelLoader[str], registry: FakeRegistry, clock: FakeClock
) -> None:
    # Given v1 served,
    activate(registry, "v1")
    loader.get()
    # when v2 is activated and requests keep coming within the refresh interval,
    activate(registry, "v2")
    for _ in range(5):
        clock.advance(REFRESH / 6)
        # then the hot path serves v1 without asking the registry again.
        assert loader.get().version == "v1"
    assert registry.lookups == 1


def test_switches_once_refresh_seconds_have_passed(
    loader: ModelLoader[str], registry: FakeRegistry, clock: FakeClock, opener: Opener
) -> None:
    activate(registry, "v1")
    loader.get()
    activate(registry, "v2")
    clock.advance(REFRESH)
    assert loader.get().version == "v2"
    assert registry.lookups == 2
    assert opener.opened == ["v1", "v2"]


def test_an_unchanged_pointer_reloads_nothing(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore, clock: FakeClock, opener: Opener
) -> None:
    activate(registry, "v1")
    first = loader.get()
    for _ in range(3):
        clock.advance(REFRESH)
        assert loader.get() is first
    assert registry.lookups == 4
    assert (store.downloads, opener.opened) == (["v1"], ["v1"])


def test_a_corrupt_version_is_refused_and_the_last_good_keeps_serving(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore, clock: FakeClock
) -> None:
    # Given v1 served and a corrupt v2 activated,
    activate(registry, "v1")
    loader.get()
    store.corrupt.add("v2")
    activate(registry, "v2")
    clock.advance(REFRESH)
    # when the loader refreshes, then it refuses v2 and keeps serving v1,
    assert loader.get().version == "v1"
    assert "checksum mismatch" in loader.refused["v2"]
    # and does not retry v2 on later refreshes while the pointer still names it.
    for _ in range(3):
        clock.advance(REFRESH)
        assert loader.get().version == "v1"
    assert store.downloads == ["v1", "v2"]


def test_a_refused_version_is_left_behind_when_the_pointer_moves_on(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore, clock: FakeClock
) -> None:
    activate(registry, "v1")
    loader.get()
    store.corrupt.add("v2")
    activate(registry, "v2")
    clock.advance(REFRESH)
    loader.get()
    activate(registry, "v3")
    clock.advance(REFRESH)
    assert loader.get().version == "v3"
    assert store.downloads == ["v1", "v2", "v3"]


def test_reason_is_truncated(loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore) -> None:
    store.read_error = ArtifactError("x" * 1000)
    activate(registry, "v1")
    with pytest.raises(ModelUnavailable):
        loader.get()
    assert len(loader.refused["v1"]) == 300


def test_a_version_with_other_features_is_refused_before_downloading(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore
) -> None:
    store.add("v4", features=["price", "margin", "units_7d"])  # same names, different order
    activate(registry, "v4")
    with pytest.raises(ModelUnavailable) as caught:
        loader.get()
    assert "differ from serving's" in loader.refused["v4"]
    assert "v4" in str(caught.value)
    assert store.downloads == []


def test_without_expected_features_any_feature_list_is_served(
    registry: FakeRegistry, store: FakeStore, opener: Opener, clock: FakeClock, tmp_path: Path
) -> None:
    store.add("v4", features=["a", "b"])
    activate(registry, "v4")
    free = build(registry, store, opener, clock, tmp_path)
    assert free.get().version == "v4"


@pytest.mark.parametrize(
    "error", [SchemaMismatch("input names differ"), ValueError("bad"), OSError("disk"), RuntimeError("ort")]
)
def test_a_version_that_fails_to_open_is_refused(
    loader: ModelLoader[str], registry: FakeRegistry, clock: FakeClock, opener: Opener, error: Exception
) -> None:
    activate(registry, "v1")
    loader.get()
    opener.fail["v2"] = error
    activate(registry, "v2")
    clock.advance(REFRESH)
    assert loader.get().version == "v1"
    assert loader.refused == {"v2": str(error)}


def test_no_active_version_is_model_unavailable(loader: ModelLoader[str]) -> None:
    with pytest.raises(ModelUnavailable, match=r"model 'demo-scorer' is unavailable \(no active version\)") as caught:
        loader.get()
    assert caught.value.status_code == 503


def test_only_refused_versions_is_model_unavailable_with_the_reasons(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore
) -> None:
    store.corrupt.add("v1")
    activate(registry, "v1")
    with pytest.raises(ModelUnavailable, match="v1: demo-scorer/v1: checksum mismatch"):
        loader.get()


def test_registry_errors_keep_serving_the_cached_version(
    loader: ModelLoader[str], registry: FakeRegistry, clock: FakeClock
) -> None:
    activate(registry, "v1")
    loader.get()
    registry.error = client_error("ProvisionedThroughputExceededException")
    clock.advance(REFRESH)
    assert loader.get().version == "v1"
    # and once the registry answers again, the next refresh picks up changes
    registry.error = None
    activate(registry, "v2")
    clock.advance(REFRESH)
    assert loader.get().version == "v2"


def test_a_registry_error_with_nothing_cached_is_model_unavailable(
    loader: ModelLoader[str], registry: FakeRegistry
) -> None:
    registry.error = ConnectionError("down")
    with pytest.raises(ModelUnavailable):
        loader.get()
    assert loader.refused == {}


def test_a_transient_store_error_keeps_serving_the_cached_version(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore, clock: FakeClock
) -> None:
    activate(registry, "v1")
    loader.get()
    store.read_error = client_error("SlowDown", "GetObject")
    activate(registry, "v2")
    clock.advance(REFRESH)
    assert loader.get().version == "v1"


def test_concurrent_first_requests_load_once(loader: ModelLoader[str], registry: FakeRegistry, opener: Opener) -> None:
    activate(registry, "v1")
    slow = opener.__call__

    def slow_open(manifest: Manifest, directory: Path) -> str:
        time.sleep(0.05)
        return slow(manifest, directory)

    loader.opener = slow_open
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(loader.get().version)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["v1"] * 6
    assert opener.opened == ["v1"]


# ------------------------------------------------------------------------------- configuration


def test_without_injected_ports_the_loader_needs_its_configuration() -> None:
    with pytest.raises(ConfigError, match="MODEL_REGISTRY_TABLE"):
        ModelLoader(NAME)


def test_defaults_come_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODEL_REGISTRY_TABLE", "registry-table")
    monkeypatch.setenv("ARTIFACT_BUCKET", "bucket")
    monkeypatch.setenv("MODEL_REFRESH_SECONDS", "12.5")
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path))
    made = ModelLoader[Any](NAME)
    assert isinstance(made.registry, ModelRegistry) and made.registry.table == "registry-table"
    assert isinstance(made.store, ArtifactStore) and made.store.bucket == "bucket"
    assert (made.refresh_seconds, made.cache_dir) == (12.5, tmp_path)


def test_refresh_seconds_zero_checks_every_time(
    registry: FakeRegistry, store: FakeStore, opener: Opener, clock: FakeClock, tmp_path: Path
) -> None:
    eager = build(registry, store, opener, clock, tmp_path, refresh_seconds=0)
    activate(registry, "v1")
    eager.get()
    activate(registry, "v2")
    assert eager.get().version == "v2"


# ------------------------------------------------------------------------------- pinned versions
# ModelLoader(version=...) serves one pinned version (an experiment's arm) with the same verification and
# refusals, whatever the active pointer says.


class VersionedRegistry(FakeRegistry):
    """The registry port of a pinned loader: get_version(name, version) (NotFound when unregistered)."""

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, tuple[str, str | None]] = {}
        self.version_reads = 0

    def get_version(self, name: str, version: str) -> VersionRecord:
        self.version_reads += 1
        if self.error is not None:
            raise self.error
        if version not in self.states:
            raise NotFound(f"model {name!r} has no version {version!r}")
        state, reason = self.states[version]
        found = super().get_version(name, version)
        return VersionRecord(name, version, state, found.registered_at, found.manifest_sha256, {}, reason)


@pytest.fixture
def versioned() -> VersionedRegistry:
    found = VersionedRegistry()
    found.states = {"v1": (CANDIDATE, None), "v2": (CANDIDATE, None), "v3": (QUARANTINED, "manifest changed")}
    found.active[NAME] = "v1"
    return found


def pinned(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path, version: str
) -> ModelLoader[str]:
    return build(versioned, store, Opener(), clock, tmp_path, expected_features=FEATURES, version=version)


def test_a_pinned_version_is_served_whatever_is_active(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(versioned, store, clock, tmp_path, "v2")
    assert (loader.get().version, loader.get().model) == ("v2", "model-v2")
    versioned.active[NAME] = "v3"  # activations and rollbacks do not move a pinned loader
    clock.advance(REFRESH * 3)
    assert loader.get().version == "v2"
    assert versioned.lookups == 0 and versioned.version_reads == 1  # once loaded, nothing is re-read


def test_a_quarantined_pinned_version_is_refused(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(versioned, store, clock, tmp_path, "v3")
    with pytest.raises(ModelUnavailable, match="quarantined: manifest changed"):
        loader.get()
    assert store.downloads == []


def test_a_corrupt_or_mismatched_pinned_version_is_refused_once(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    store.corrupt.add("v2")
    loader = pinned(versioned, store, clock, tmp_path, "v2")
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="checksum mismatch"):
            loader.get()
        clock.advance(REFRESH)
    assert store.downloads == ["v2"]  # refused and remembered, not fetched again
    store.add("v1", features=["other"])
    with pytest.raises(ModelUnavailable, match="differ from serving"):
        pinned(versioned, store, clock, tmp_path / "b", "v1").get()


def test_an_unregistered_or_unreachable_version_is_retried(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(versioned, store, clock, tmp_path, "v9")
    with pytest.raises(ModelUnavailable, match="transient"):
        loader.get()
    versioned.states["v9"] = (CANDIDATE, None)
    store.add("v9")
    assert loader.get().version == "v9"  # retried at the next request: nothing was served yet


# What is loaded is what validation checked (issue 18, part 7), and a cold container whose active version
# cannot load serves the newest earlier one that can.


def test_a_manifest_other_than_the_validated_one_is_refused(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore
) -> None:
    activate(registry, "v1")
    registry.records["v1"] = VersionRecord(NAME, "v1", CANDIDATE, "2026-12-05T10:00:00Z", "0" * 64, {})
    with pytest.raises(ModelUnavailable, match="the manifest is not the one validated"):
        loader.get()
    assert store.downloads == []


def test_an_active_version_quarantined_after_activation_is_refused(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore
) -> None:
    activate(registry, "v1")
    registry.records["v1"] = VersionRecord(NAME, "v1", QUARANTINED, "", "", {}, "manifest changed after registration")
    with pytest.raises(ModelUnavailable, match="quarantined: manifest changed after registration"):
        loader.get()


def test_a_cold_container_falls_back_to_the_last_good_version_then_moves_on(
    loader: ModelLoader[str], registry: FakeRegistry, store: FakeStore, clock: FakeClock
) -> None:
    # v3 is active but corrupt, v2 before it was quarantined: v1, the newest loadable, serves
    registry.history = ["v1", "v2"]
    registry.records["v2"] = VersionRecord(NAME, "v2", QUARANTINED, "", "", {}, "bad")
    store.corrupt.add("v3")
    activate(registry, "v3")
    assert loader.get().version == "v1"
    assert loader.fallback_from == "v3" and set(loader.refused) == {"v2", "v3"}
    # a new activation that loads replaces the fallback
    activate(registry, "v4")
    store.add("v4")
    clock.advance(REFRESH)
    assert loader.get().version == "v4" and loader.fallback_from is None


def test_a_pinned_version_never_falls_back(
    versioned: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    versioned.history = ["v1"]
    store.corrupt.add("v2")
    with pytest.raises(ModelUnavailable, match="checksum mismatch"):
        pinned(versioned, store, clock, tmp_path, "v2").get()

"""ModelLoader(version=...) serves one pinned version (an experiment's arm), with the loader's usual
verification and refusals, whatever the active pointer says. Same fakes as tests/unit/test_loader.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.registry import CANDIDATE, QUARANTINED, VersionRecord
from commerce_ai.errors import ModelUnavailable, NotFound
from commerce_ai.experiments.definitions import ModelRef
from commerce_ai.experiments.serving import Arm, ModelsByArm
from tests.unit.fakes import FEATURES, FakeClock
from tests.unit.test_loader import NAME, REFRESH, FakeRegistry, FakeStore, Opener, build


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
        return VersionRecord(name, version, state, "2026-12-05T10:00:00Z", "sha", {}, reason)


@pytest.fixture
def registry() -> VersionedRegistry:
    found = VersionedRegistry()
    found.states = {"v1": (CANDIDATE, None), "v2": (CANDIDATE, None), "v3": (QUARANTINED, "manifest changed")}
    found.active[NAME] = "v1"
    return found


@pytest.fixture
def store() -> FakeStore:
    found = FakeStore()
    for version in ("v1", "v2", "v3"):
        found.add(version)
    return found


def pinned(
    registry: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path, version: str
) -> ModelLoader[str]:
    return build(registry, store, Opener(), clock, tmp_path, expected_features=FEATURES, version=version)


def test_a_pinned_version_is_served_whatever_is_active(
    registry: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(registry, store, clock, tmp_path, "v2")
    assert (loader.get().version, loader.get().model) == ("v2", "model-v2")
    registry.active[NAME] = "v3"  # activations and rollbacks do not move a pinned loader
    clock.advance(REFRESH * 3)
    assert loader.get().version == "v2"
    assert registry.lookups == 0 and registry.version_reads == 1  # once loaded, nothing is re-read


def test_a_quarantined_pinned_version_is_refused(
    registry: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(registry, store, clock, tmp_path, "v3")
    with pytest.raises(ModelUnavailable, match="quarantined: manifest changed"):
        loader.get()
    assert store.downloads == []


def test_a_corrupt_or_mismatched_pinned_version_is_refused_once(
    registry: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    store.corrupt.add("v2")
    loader = pinned(registry, store, clock, tmp_path, "v2")
    for _ in range(3):
        with pytest.raises(ModelUnavailable, match="checksum mismatch"):
            loader.get()
        clock.advance(REFRESH)
    assert store.downloads == ["v2"]  # refused and remembered, not fetched again
    store.add("v1", features=["other"])
    with pytest.raises(ModelUnavailable, match="differ from serving"):
        pinned(registry, store, clock, tmp_path / "b", "v1").get()


def test_an_unregistered_or_unreachable_version_is_retried(
    registry: VersionedRegistry, store: FakeStore, clock: FakeClock, tmp_path: Path
) -> None:
    loader = pinned(registry, store, clock, tmp_path, "v9")
    with pytest.raises(ModelUnavailable, match="transient"):
        loader.get()
    registry.states["v9"] = (CANDIDATE, None)
    store.add("v9")
    assert loader.get().version == "v9"  # retried at the next request: nothing was served yet


def test_each_arm_gets_a_loader_for_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[tuple[str, Any]] = []

    class Recorder:
        def __init__(self, name: str, **options: Any) -> None:
            made.append((name, options))
            self.version = options["version"]

        def get(self) -> str:
            return f"{self.version}"

    monkeypatch.setattr("commerce_ai.experiments.serving.ModelLoader", Recorder)
    models = ModelsByArm()
    control = Arm("t", "control", ModelRef(model="ranker", version="v1"), None, True)
    treatment = Arm("t", "treatment", ModelRef(model="ranker", version="v2"), None, False)
    assert [models.get(control), models.get(treatment), models.get(control)] == ["v1", "v2", "v1"]
    assert made == [("ranker", {"version": "v1"}), ("ranker", {"version": "v2"})]
    with pytest.raises(ValueError, match="variant"):
        models.get(Arm("t", "blue", None, "blue-button", False))

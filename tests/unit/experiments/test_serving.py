"""What serving code calls: `commerce_ai.experiments.assign` with definitions cached per container."""

from __future__ import annotations

from typing import Any

import pytest

from commerce_ai import experiments
from commerce_ai.errors import NotFound
from commerce_ai.experiments.definitions import ExperimentChange, ModelRef, apply_change
from commerce_ai.experiments.serving import Arm, Definitions, ModelsByArm, impression_properties, response_field
from commerce_ai.experiments.store import ExperimentStore
from tests.unit.experiments.conftest import NOW, create
from tests.unit.fakes import FakeClock, FakeDynamoDB, client_error


def test_assign_is_sticky_and_says_what_the_arm_serves(store: ExperimentStore) -> None:
    create(store)
    arms = [experiments.assign("ranker-test", f"u-{i}") for i in range(100)]
    assert arms == [experiments.assign("ranker-test", f"u-{i}") for i in range(100)]
    assert {a.name for a in arms} == {"control", "treatment"}
    treatment = next(a for a in arms if a.name == "treatment")
    assert (treatment.model and treatment.model.version, treatment.control) == ("v2", False)
    assert response_field(treatment) == {"experiment": {"name": "ranker-test", "arm": "treatment"}}
    assert impression_properties(treatment) == {"experiment": "ranker-test", "arm": "treatment"}


def test_an_undefined_experiment_is_not_found(store: ExperimentStore) -> None:
    with pytest.raises(NotFound):
        experiments.assign("no-such-test", "u-1")


def test_definitions_are_reread_after_the_refresh_and_a_stop_serves_control(
    store: ExperimentStore, ddb: FakeDynamoDB
) -> None:
    create(store)
    clock = FakeClock()
    cached = Definitions(store, refresh_seconds=30, clock=clock)
    treated = next(f"u-{i}" for i in range(100) if cached.assign("ranker-test", f"u-{i}").name == "treatment")
    current = store.get("ranker-test")
    assert current is not None
    store.put(apply_change("ranker-test", current, ExperimentChange(status="stopped"), NOW), current.revision)
    reads = len(ddb.log)
    assert cached.assign("ranker-test", treated).name == "treatment"  # within the refresh: cached, no read
    assert len(ddb.log) == reads
    clock.advance(30)
    stopped = cached.assign("ranker-test", treated)
    assert (stopped.name, stopped.control) == ("control", True)


def test_an_unreadable_table_keeps_the_cached_definition(store: ExperimentStore, ddb: FakeDynamoDB) -> None:
    create(store)
    clock = FakeClock()
    cached = Definitions(store, refresh_seconds=30, clock=clock)
    before = cached.assign("ranker-test", "u-1")
    ddb.fail_with = client_error("InternalServerError", "GetItem")
    clock.advance(60)
    assert cached.assign("ranker-test", "u-1") == before
    with pytest.raises(Exception, match="InternalServerError"):
        cached.assign("other-test", "u-1")  # nothing cached to fall back on


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

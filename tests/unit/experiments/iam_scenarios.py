"""The experiments' functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.experiments import service as experiments_service
from commerce_ai.experiments.definitions import ExperimentChange, apply_change
from tests.support.events import sample
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (experiments_service.store, experiments_service.definitions)
PUT_SAMPLE = "experiments/ExperimentsApiFunction-PutExperiment.json"


def run_experiments_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "ExperimentsApiFunction", tmp_path)
    world.ssm.values[STACK.function("ExperimentsApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        created = client.http.put("/experiments/demand-model-test", headers=admin, body=sample(PUT_SAMPLE)["body"])
        assert created.status_code == 201, created.body
        stopped = client.http.put("/experiments/demand-model-test", headers=admin, body=b'{"status": "stopped"}')
        assert stopped.status_code == 200, stopped.body
        assert client.http.get("/experiments?limit=5", headers=admin).status_code == 200
        assert client.http.get("/experiments/demand-model-test", headers=admin).status_code == 200


def run_experiment_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ExperimentEventsFunction", tmp_path)
    change = ExperimentChange.model_validate_json(sample(PUT_SAMPLE)["body"])
    created = apply_change("demand-model-test", None, change, datetime(2026, 12, 5, tzinfo=UTC))
    experiments_service.store().put(created, None)
    world.forget_setup()
    events = sample("experiments/ExperimentEventsFunction-BehaviourEventQueued.json")
    assert handler(events, context) == {"batchItemFailures": []}
    assert handler(events, context) == {"batchItemFailures": []}  # redelivered: every transaction refused


SCENARIOS: dict[str, Scenario] = {
    "ExperimentsApiFunction": run_experiments_api,
    "ExperimentEventsFunction": run_experiment_events,
}

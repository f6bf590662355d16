"""Experiments over in-memory DynamoDB laid out as template.yaml lays out ExperimentsTable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from commerce_ai import experiments
from commerce_ai.experiments import service
from commerce_ai.experiments.definitions import ExperimentChange, apply_change
from commerce_ai.experiments.store import ExperimentStore
from tests.unit.fakes import FakeAws, FakeDynamoDB

TABLE = "experiments-table"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_singletons() -> Iterator[None]:
    for cached in (service.store, service.definitions, experiments._models):
        cached.cache_clear()
    yield
    for cached in (service.store, service.definitions, experiments._models):
        cached.cache_clear()


@pytest.fixture
def ddb(fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> FakeDynamoDB:
    fake_aws.dynamodb = FakeDynamoDB(key_schemas={TABLE: ("pk", "sk")})
    monkeypatch.setenv("EXPERIMENTS_TABLE", TABLE)
    return fake_aws.dynamodb


@pytest.fixture
def store(ddb: FakeDynamoDB) -> ExperimentStore:
    return ExperimentStore(TABLE, ddb)


def body(**overrides: object) -> dict[str, object]:
    """A valid creation body: two model arms 50/50 on click-through."""
    return {
        "arms": [
            {"name": "control", "model": {"model": "ranker", "version": "v1"}, "weight": 50},
            {"name": "treatment", "model": {"model": "ranker", "version": "v2"}, "weight": 50},
        ],
        "control": "control",
        "primary_metric": "click_through",
        "baseline_rate": 0.1,
        "minimum_detectable_effect": 0.02,
        **overrides,
    }


def create(store: ExperimentStore, name: str = "ranker-test", **overrides: object) -> None:
    experiment = apply_change(name, None, ExperimentChange.model_validate(body(**overrides)), NOW)
    store.put(experiment, None)

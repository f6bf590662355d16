"""A VisualApiFunction over in-memory AWS serving the small real artifacts (tests/support/visual.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import manifest_digest
from commerce_ai.config import clear_cached_settings
from commerce_ai.visual import service
from infra.runner.invoker import load_handler
from infra.template import Stack
from model_build import Built, publish
from tests.support.visual import built_visual
from tests.unit.fakes import FakeAws, FakeDynamoDB

STACK = Stack()


@pytest.fixture(scope="session")
def visual_artifacts(tmp_path_factory: pytest.TempPathFactory) -> list[Built]:
    return built_visual(tmp_path_factory.mktemp("visual"))


@pytest.fixture
def visual_world(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, visual_artifacts: list[Built], tmp_path: Path
) -> Iterator[FakeAws]:
    """Every table and the artifact bucket of VisualApiFunction's environment, with both models active."""
    fn = STACK.function("VisualApiFunction")
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    clear_cached_settings()
    tables = {
        fn.environment["CATALOG_TABLE"]: ("item_id",),
        fn.environment["VISUAL_DELTAS_TABLE"]: ("item_id",),
        fn.environment["MODEL_REGISTRY_TABLE"]: ("model", "version"),
        fn.environment["HEALTH_TABLE"]: ("function",),
    }
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=tables)
    registry = ModelRegistry(fn.environment["MODEL_REGISTRY_TABLE"], fake_aws.dynamodb)
    for built in visual_artifacts:
        store = ArtifactStore(fn.environment["ARTIFACT_BUCKET"], s3=fake_aws.s3)
        publish(store, built, "v1")
        # the digest validation records, which the loader insists on
        registry.register_candidate(built.name, "v1", manifest_digest(store.read_manifest(built.name, "v1")), {})
        registry.activate(built.name, "v1")
    for cached in (service.index_loader, service.scene_loader, service.catalogue):
        cached.cache_clear()
    service.delta_cache.forget()
    yield fake_aws
    for cached in (service.index_loader, service.scene_loader, service.catalogue):
        cached.cache_clear()
    service.delta_cache.forget()


@pytest.fixture
def client(visual_world: FakeAws) -> Iterator[Any]:
    fn = STACK.function("VisualApiFunction")
    with Client(load_handler(fn.code_uri, fn.module, fn.attribute)) as test_client:
        yield test_client

"""A model version travels the real path: S3 upload -> notification on SQS -> validation -> registry,
then activation and rollback over the HTTP API, and the serving loader follows the active pointer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.errors import Conflict
from infra.template import Stack
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.models import FEATURES


def test_upload_is_validated_registered_activated_and_rolled_back(
    stack: Stack, registry: ModelRegistry, store: ArtifactStore, publish_linear: Any, model_name: str
) -> None:
    # Given two versions uploaded to S3 and delivered by the real notification queue
    first = publish_linear(model_name, [1.0, 0.0, 0.0])
    second = publish_linear(model_name, [0.0, 2.0, 0.0])
    drain(stack, registry, model_name, versions=2)
    assert {v.state for v in registry.versions(model_name)} == {"candidate"}

    gateway = gateway_for(stack)
    status, listed = call(gateway, "GET", "/models")
    assert status == 200
    assert {"name": model_name, "active_version": None}.items() <= next(
        m for m in listed["items"] if m["name"] == model_name
    ).items()

    # When an admin activates the first, then the second
    loader: ModelLoader[Any] = ModelLoader(model_name, expected_features=FEATURES, refresh_seconds=0)
    assert call(gateway, "POST", f"/models/{model_name}/activate", {"version": first.version}, ADMIN_KEY)[0] == 200
    assert loader.get().version == first.version
    status, body = call(gateway, "POST", f"/models/{model_name}/activate", {"version": second.version}, ADMIN_KEY)
    assert (status, body["active_version"], body["rollback_to"]) == (200, second.version, first.version)

    # Then the loader follows the pointer and serves the second model's real outputs
    served = loader.get()
    assert served.version == second.version
    score = served.model.run(None, {"features": np.array([[1.0, 1.0, 1.0]], dtype=np.float32)})[0]
    assert score[0][0] == pytest.approx(2.0)

    # And a rollback restores the first
    status, body = call(gateway, "POST", f"/models/{model_name}/rollback", key=ADMIN_KEY)
    assert (status, body["active_version"]) == (200, first.version)
    assert loader.get().version == first.version
    status, described = call(gateway, "GET", f"/models/{model_name}")
    assert status == 200
    assert described["active_version"] == first.version
    assert described["active_schema"]["input"]["feature_names"] == FEATURES
    states = {v["version"]: v["state"] for v in described["versions"]}
    assert states == {first.version: "active", second.version: "candidate"}


def test_admin_routes_refuse_missing_and_wrong_keys(
    stack: Stack, registry: ModelRegistry, publish_linear: Any, model_name: str
) -> None:
    version = publish_linear(model_name, [1.0, 1.0, 1.0]).version
    drain(stack, registry, model_name, versions=1)
    gateway = gateway_for(stack)

    status, body = call(gateway, "POST", f"/models/{model_name}/activate", {"version": version})
    assert status == 401 and body["Code"] == "UnauthorizedError"
    status, body = call(gateway, "POST", f"/models/{model_name}/activate", {"version": version}, "not-the-key")
    assert status == 401 and "not a known caller key" in body["Message"]
    # Scope escalation: the chargeback system's labels key cannot activate models.
    status, body = call(gateway, "POST", f"/models/{model_name}/activate", {"version": version}, caller="labels")
    assert status == 403 and body["Code"] == "ForbiddenError" and "models:write" in body["Message"]
    status, body = call(gateway, "POST", f"/models/{model_name}/rollback")
    assert status == 401
    assert registry.active_version(model_name) is None


def test_a_stale_pointer_write_conflicts_even_after_an_a_b_a_change(
    stack: Stack, registry: ModelRegistry, publish_linear: Any, model_name: str
) -> None:
    first, second = (publish_linear(model_name, [float(i), 1.0, 1.0]).version for i in range(2))
    drain(stack, registry, model_name, versions=2)
    registry.activate(model_name, first)
    stale = registry.pointer(model_name)
    assert stale is not None

    # Another admin activates the second version and then the first again: same active version, new revision
    registry.activate(model_name, second)
    registry.activate(model_name, first)

    with pytest.raises(Conflict):
        registry._swap_pointer(model_name, stale, second, [*stale.history, first])
    assert registry.pointer(model_name).history == [first, second]  # type: ignore[union-attr]

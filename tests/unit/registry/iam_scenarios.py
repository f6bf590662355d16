"""The registry's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py), with the
API documentation function (the platform's, like `/health`) and the shop-wide user erasure (a platform
function: every capability that keeps per-user data adds its part)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.artifacts.store import ArtifactStore
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from model_build import publish
from tests.support.models import built_linear
from tests.unit.fakes import sqs_message
from tests.unit.iam import STACK, Scenario, World, configure
from tests.unit.propensity.iam_scenarios import known_profile  # a user with data to erase

NAME = "demo-scorer"


def notification(bucket: str, version: str) -> str:
    key = f"models/{NAME}/{version}/manifest.json"
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    )


def publish_demo_versions(world: World) -> None:
    """demo-scorer v1 and v2, both sound, in the artifact bucket."""
    store = ArtifactStore(world.bucket, s3=world.aws.s3)
    for version in ("v1", "v2"):
        publish(store, built_linear(world.scratch(f"demo-{version}")), version)


def run_artifact_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactEventsFunction", tmp_path)
    publish_demo_versions(world)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    messages = [
        sqs_message("m1", notification(world.bucket, "v1")),
        sqs_message("m2", notification(world.bucket, "v1")),  # redelivery: conditional put fails, GetItem
        # v2's file is missing on the queue's last delivery: quarantined (earlier ones are retried)
        {**sqs_message("m3", notification(world.bucket, "v2")), "Attributes": {"ApproximateReceiveCount": "3"}},
        sqs_message("m4", notification(world.bucket, "v3")),  # deleted since: a 404, quarantined
    ]
    result = handler(sqs_event(messages, STACK.arn("ArtifactEventsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": []}


def run_reconcile(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactReconcileFunction", tmp_path)
    publish_demo_versions(world)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    assert handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)["checked"] == 2


def run_registry_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RegistryApiFunction", tmp_path)
    publish_demo_versions(world)
    world.registry.register_candidate(NAME, "v1", "sha", {})
    world.registry.activate(NAME, "v1")
    world.forget_setup()
    with Client(handler) as client:
        assert client.http.get("/health").status_code == 200
        assert client.http.get("/models").status_code == 200
        assert client.http.get(f"/models/{NAME}").status_code == 200


def run_registry_admin(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RegistryAdminFunction", tmp_path)
    publish_demo_versions(world)
    world.ssm.values[STACK.function("RegistryAdminFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.registry.register_candidate(NAME, "v1", "sha", {})
    world.registry.register_candidate(NAME, "v2", "sha", {})
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v1"}').status_code == 200
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v2"}').status_code == 200
        assert client.http.post(f"/models/{NAME}/rollback", headers=admin).status_code == 200


def run_api_docs(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "ApiDocsFunction", tmp_path)
    world.forget_setup()
    with Client(handler) as client:
        assert client.http.get("/openapi.json").status_code == 200
        assert client.http.get("/docs").status_code == 200
        assert client.http.get("/docs/swagger-ui.css").status_code == 200


def run_caller_authorizer(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys

    from commerce_ai.access import AccessRules

    handler, context = configure(monkeypatch, "CallerAuthorizerFunction", tmp_path)
    sys.modules[handler.__module__]._keys.cache_clear()  # keys read by an earlier test's fake SSM
    rules = AccessRules.parse(STACK.function("CallerAuthorizerFunction").environment)
    for kind, parameter in rules.key_parameters.items():
        world.ssm.values[parameter] = f"key-{kind}"
    sys.modules[handler.__module__]._usage_keys.cache_clear()
    world.aws.apigateway.values = {key_id: f"usage-{kind}" for kind, key_id in rules.usage_keys.items()}
    world.forget_setup()
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/Prod/POST/risk/score"
    event = {
        "httpMethod": "POST",
        "resource": "/risk/score",
        "methodArn": arn,
        "headers": {"x-api-key": "key-checkout"},
    }
    answer = handler(event, context)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["usageIdentifierKey"] == "usage-checkout"  # its usage plan's key, read from API Gateway


def run_user_erasure(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "UserErasureFunction", tmp_path)
    world.ssm.values[STACK.function("UserErasureFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    known_profile()
    world.forget_setup()
    with Client(handler) as client:
        erased = client.http.delete("/users/u-1001", headers={"x-api-key": "k"})
        assert erased.status_code == 200, erased.body


SCENARIOS: dict[str, Scenario] = {
    "ApiDocsFunction": run_api_docs,
    "CallerAuthorizerFunction": run_caller_authorizer,
    "ArtifactEventsFunction": run_artifact_events,
    "ArtifactReconcileFunction": run_reconcile,
    "RegistryApiFunction": run_registry_api,
    "RegistryAdminFunction": run_registry_admin,
    "UserErasureFunction": run_user_erasure,
}

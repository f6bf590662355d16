"""Each function's IAM policy in template.yaml allows every AWS call its code makes.

The template's policies are least-privilege and hand-written, so a new DynamoDB Query or S3 read in the
code deploys fine and then fails with AccessDenied in AWS only (moto and the local runner do not enforce
IAM). Here each handler runs its main paths over in-memory AWS configured exactly as the template
configures it; every recorded call becomes an IAM action on a resource ARN, which the function's own
policy statements must allow.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from infra.template import Stack
from model_build import publish
from tests.support.models import built_linear
from tests.unit.fakes import FakeAws, FakeDynamoDB, FakeSSMProvider, sqs_message

NAME = "demo-scorer"
STACK = Stack()


@dataclass(frozen=True)
class Need:
    """One IAM permission a call needs: action on resource, with request context for conditions."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        extra = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{extra}"


# ------------------------------------------------------------------------------- calls -> needs


def needs_of(aws: FakeAws, ssm: FakeSSMProvider) -> set[Need]:
    env = STACK.env
    needs: set[Need] = set()
    for operation, params in aws.dynamodb.log:
        table = f"arn:{env.partition}:dynamodb:{env.region}:{env.account}:table/{params['TableName']}"
        needs.add(Need(f"dynamodb:{operation}", table))
    for operation, params in aws.s3.log:
        bucket = f"arn:{env.partition}:s3:::{params['Bucket']}"
        if operation in ("GetObject", "HeadObject", "DownloadFile"):  # all authorised as s3:GetObject
            needs.add(Need("s3:GetObject", f"{bucket}/{params['Key']}"))
            if params["missing"] and operation != "DownloadFile":
                # Without ListBucket S3 answers 403, not the 404 the code tells apart (ArtifactStore._missing);
                # download() treats every error alike, so it does not need it.
                needs.add(Need("s3:ListBucket", bucket))
        elif operation == "ListObjectsV2":
            needs.add(Need("s3:ListBucket", bucket, (("s3:prefix", params["Prefix"]),)))
        else:
            needs.add(Need(f"s3:{operation}", f"{bucket}/{params['Key']}"))
    for name, _, _ in ssm.calls:
        needs.add(Need("ssm:GetParameter", f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter{name}"))
    return needs


# ------------------------------------------------------------------------------- policy evaluation


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sam_template_statements(name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The SAM policy templates the template uses, expanded as SAM expands them."""
    env = STACK.env
    if name == "SSMParameterReadPolicy":
        parameter = str(STACK.resolve(args["ParameterName"]))
        return [
            {"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
                "Resource": f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter/{parameter}",
            },
        ]
    raise AssertionError(f"unknown SAM policy template {name}: teach test_iam_agreement.py how SAM expands it")


def statements_of(logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in _as_list(STACK.resources[logical_id]["Properties"].get("Policies") or []):
        if isinstance(policy, str):
            raise AssertionError(f"{logical_id}: managed policy {policy} cannot be checked here")
        for key, value in policy.items():
            if key == "Statement":
                statements.extend(STACK.resolve(s) for s in _as_list(value))
            else:
                statements.extend(_sam_template_statements(key, value))
    return statements


def _conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, patterns in tests.items():
            if key not in context:
                return False
            value = context[key]
            if operator == "StringLike":
                if not any(fnmatch.fnmatchcase(value, p) for p in _as_list(patterns)):
                    return False
            elif operator == "StringEquals":
                if value not in _as_list(patterns):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here")
    return True


def allows(statements: list[dict[str, Any]], need: Need) -> bool:
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(need.action.lower(), str(a).lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(need.resource, str(r)) for r in _as_list(statement["Resource"])):
            continue
        if _conditions_hold(statement, dict(need.context)):
            return True
    return False


# ------------------------------------------------------------------------------- the scenarios


@dataclass
class World:
    aws: FakeAws
    ssm: FakeSSMProvider
    bucket: str
    registry: ModelRegistry

    def forget_setup(self) -> None:
        self.aws.dynamodb.log.clear()
        self.aws.s3.log.clear()
        self.ssm.calls.clear()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, tmp_path: Path) -> Iterator[World]:
    """In-memory AWS laid out as the template declares it (names, key schemas), with one sound version."""
    tables = {
        STACK.physical_name(logical_id): tuple(k["AttributeName"] for k in resource["Properties"]["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
    }
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=tables)
    bucket = STACK.physical_name("ArtifactBucket")
    store = ArtifactStore(bucket, s3=fake_aws.s3)
    publish(store, built_linear(tmp_path / "v1"), "v1")
    publish(store, built_linear(tmp_path / "v2"), "v2")
    ssm = FakeSSMProvider({})
    monkeypatch.setattr(http, "_ssm_provider", ssm)
    yield World(fake_aws, ssm, bucket, ModelRegistry(STACK.physical_name("ModelRegistryTable"), fake_aws.dynamodb))


def configure(monkeypatch: pytest.MonkeyPatch, logical_id: str, tmp_path: Path) -> Any:
    fn = STACK.function(logical_id)
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", fn.physical_name)
    settings.cache_clear()
    return load_handler(fn.code_uri, fn.module, fn.attribute), LambdaContext(fn.physical_name)


def notification(bucket: str, version: str) -> str:
    key = f"models/{NAME}/{version}/manifest.json"
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    )


def run_artifact_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactEventsFunction", tmp_path)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    messages = [
        sqs_message("m1", notification(world.bucket, "v1")),
        sqs_message("m2", notification(world.bucket, "v1")),  # redelivery: conditional put fails, GetItem
        sqs_message("m3", notification(world.bucket, "v2")),
        sqs_message("m4", notification(world.bucket, "v3")),  # deleted since: a 404, quarantined
    ]
    result = handler(sqs_event(messages, STACK.arn("ArtifactEventsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": []}


def run_reconcile(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactReconcileFunction", tmp_path)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    assert handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)["checked"] == 2


def run_registry_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RegistryApiFunction", tmp_path)
    world.ssm.values[STACK.function("RegistryApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.registry.register_candidate(NAME, "v1", "sha", {})
    world.registry.register_candidate(NAME, "v2", "sha", {})
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        assert client.http.get("/health").status_code == 200
        assert client.http.get("/models").status_code == 200
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v1"}').status_code == 200
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v2"}').status_code == 200
        assert client.http.get(f"/models/{NAME}").status_code == 200
        assert client.http.post(f"/models/{NAME}/rollback", headers=admin).status_code == 200


def run_competitor_prices(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "CompetitorPricesFunction", tmp_path)
    world.forget_setup()
    sample = json.loads((Path(__file__).resolve().parents[2] / "events/pricing/competitor_price.json").read_text())
    messages = [
        sqs_message("m1", json.dumps(sample)),
        sqs_message("m2", json.dumps({**sample, "observed_at": "2026-11-27T09:00:00Z"})),  # older
        sqs_message("m3", "{not json"),  # poison: fails alone
    ]
    result = handler(sqs_event(messages, STACK.arn("CompetitorPricesQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}


def run_pricing_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "PricingApiFunction", tmp_path)
    world.ssm.values[STACK.function("PricingApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        created = client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"price": 2.49, "cost": 1.79}')
        assert created.status_code == 200
        assert client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"floor": 1.99}').status_code == 200
        assert client.http.get("/pricing/skus?limit=1").status_code == 200
        assert client.http.get("/pricing/prices/oj-2-1").status_code == 200


SCENARIOS = {
    "PricingApiFunction": run_pricing_api,
    "CompetitorPricesFunction": run_competitor_prices,
    "ArtifactEventsFunction": run_artifact_events,
    "ArtifactReconcileFunction": run_reconcile,
    "RegistryApiFunction": run_registry_api,
}


def test_every_function_has_a_scenario() -> None:
    assert set(SCENARIOS) == {fn.logical_id for fn in STACK.functions()}


@pytest.mark.parametrize("logical_id", sorted(SCENARIOS))
def test_the_policy_allows_every_call_the_code_makes(
    logical_id: str, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the function configured as the template configures it, when its main paths run,
    SCENARIOS[logical_id](world, monkeypatch, tmp_path)
    needs = needs_of(world.aws, world.ssm)
    assert needs, "the scenario made no AWS calls"
    # then its own policy allows each call it made.
    statements = statements_of(logical_id)
    missing = sorted(str(n) for n in needs if not allows(statements, n))
    assert missing == [], f"{logical_id} would get AccessDenied for: {missing}"


# ------------------------------------------------------------------------------- the checker itself


def test_the_checker_refuses_what_no_statement_allows() -> None:
    statements = statements_of("ArtifactReconcileFunction")
    bucket = STACK.arn("ArtifactBucket")
    table = STACK.arn("ModelRegistryTable")
    # ListBucket on the artifact bucket (it holds only models/) turns a missing key into a 404, not a 403
    assert allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "models/"),)))
    assert allows(statements, Need("s3:ListBucket", bucket))
    assert not allows(statements, Need("s3:ListBucket", STACK.arn("ArtifactBucket") + "-other"))
    assert allows(statements, Need("s3:GetObject", f"{bucket}/models/x/v1/manifest.json"))
    assert not allows(statements, Need("s3:GetObject", f"{bucket}/other/file"))
    assert not allows(statements, Need("s3:PutObject", f"{bucket}/models/x"))
    assert allows(statements, Need("dynamodb:Query", table))
    assert not allows(statements, Need("dynamodb:DeleteItem", table))
    assert not allows(statements, Need("dynamodb:Query", STACK.arn("HealthTable")))


def test_sam_policy_templates_are_expanded() -> None:
    statements = statements_of("RegistryApiFunction")
    parameter = f"arn:aws:ssm:{STACK.env.region}:{STACK.env.account}:parameter/commerce-ai/admin-api-key"
    assert allows(statements, Need("ssm:GetParameter", parameter))
    assert not allows(statements, Need("ssm:GetParameter", parameter + "-other"))
    assert not allows(statements_of("ArtifactEventsFunction"), Need("ssm:GetParameter", parameter))


def test_module_state_is_not_shared_between_scenarios() -> None:
    # The registry app caches its SSM provider in commerce_ai.http; conftest resets it per test.
    assert http._ssm_provider is None
    assert "commerce_ai.http" in sys.modules

"""Each function's IAM policy in template.yaml allows every AWS call its code makes.

The template's policies are least-privilege and hand-written, so a new DynamoDB Query or S3 read in the
code deploys fine and then fails with AccessDenied in AWS only (moto and the local runner do not enforce
IAM). Here each handler runs its main paths over in-memory AWS (tests/unit/fakes.py) laid out exactly as
the template lays it out; every call the fakes record becomes an IAM action on a resource ARN (a batch
call, one per table it names), which the function's effective policy must allow: its own statements
and what SAM attaches to its role (tests/unit/iam.py `statements_of`). Functions that
serve a model get a real one. The machinery is in tests/unit/iam.py; the scenarios are each
capability's own, in `tests/unit/<capability>/iam_scenarios.py`, found from the folders.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from commerce_ai import http
from commerce_ai.artifacts.registry import ModelRegistry
from tests.unit.fakes import FakeAws, FakeDynamoDB, FakeSSMProvider
from tests.unit.iam import STACK, Need, Scenario, World, allows, needs_of, statements_of

UNIT_TESTS = Path(__file__).resolve().parents[1]


def _scenario_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"tests.unit.{path.parent.name}.iam_scenarios")
        for path in sorted(UNIT_TESTS.glob("*/iam_scenarios.py"))
    ]


SCENARIO_MODULES = _scenario_modules()
SCENARIOS: dict[str, Scenario] = {k: v for m in SCENARIO_MODULES for k, v in m.SCENARIOS.items()}
CACHED = [cached for m in SCENARIO_MODULES for cached in getattr(m, "CACHED", ())]


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """In-memory AWS laid out as the template declares it (names, key schemas)."""
    tables = {
        STACK.physical_name(logical_id): tuple(k["AttributeName"] for k in resource["Properties"]["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
    }
    indexes = {
        (STACK.physical_name(logical_id), index["IndexName"]): tuple(k["AttributeName"] for k in index["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
        for index in resource["Properties"].get("GlobalSecondaryIndexes", [])
    }
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=tables, index_schemas=indexes)
    ssm = FakeSSMProvider({})
    monkeypatch.setattr(http, "_ssm_provider", ssm)
    for cached in CACHED:  # these live as long as a warm container: one per scenario
        cached.cache_clear()
    registry = ModelRegistry(STACK.physical_name("ModelRegistryTable"), fake_aws.dynamodb)
    yield World(fake_aws, ssm, STACK.physical_name("ArtifactBucket"), registry, tmp_path_factory.mktemp)
    for cached in CACHED:
        cached.cache_clear()


def test_every_function_has_a_scenario() -> None:
    # A new function fails here until its capability's iam_scenarios.py runs it.
    assert set(SCENARIOS) == {fn.logical_id for fn in STACK.functions()}


def test_scenarios_are_found_beside_each_capabilitys_tests() -> None:
    assert {"tests.unit.registry.iam_scenarios", "tests.unit.pricing.iam_scenarios"} <= {
        m.__name__ for m in SCENARIO_MODULES
    }


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
    # the reconcile sweep lists models/ and nothing else of the bucket
    assert allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "models/"),)))
    assert not allows(statements, Need("s3:ListBucket", bucket))
    assert not allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "uploads/"),)))
    assert not allows(statements, Need("s3:ListBucket", STACK.arn("ArtifactBucket") + "-other"))
    assert allows(statements, Need("s3:GetObject", f"{bucket}/models/x/v1/manifest.json"))
    assert not allows(statements, Need("s3:GetObject", f"{bucket}/other/file"))
    assert not allows(statements, Need("s3:PutObject", f"{bucket}/models/x"))
    assert allows(statements, Need("dynamodb:Query", table))
    assert not allows(statements, Need("dynamodb:DeleteItem", table))
    assert not allows(statements, Need("dynamodb:Query", STACK.arn("HealthTable")))


def test_parameter_reads_name_their_parameter() -> None:
    statements = statements_of("RegistryAdminFunction")
    parameter = f"arn:aws:ssm:{STACK.env.region}:{STACK.env.account}:parameter/commerce-ai/admin-api-key"
    assert allows(statements, Need("ssm:GetParameter", parameter))
    assert not allows(statements, Need("ssm:GetParameter", parameter + "-other"))
    assert not allows(statements_of("ArtifactEventsFunction"), Need("ssm:GetParameter", parameter))


def test_the_checker_reads_the_effective_policy() -> None:
    # Besides its own statements, a function's role gets what SAM attaches: logs for every function, and
    # a schedule's on-failure destination; a publisher's registry writes are checked against their key.
    statements = statements_of("RiskWeeklyFunction")
    assert allows(statements, Need("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:x"))
    assert allows(statements, Need("sqs:SendMessage", STACK.arn("ScheduledInvocationFailuresQueue")))
    registry = STACK.arn("ModelRegistryTable")
    assert allows(statements, Need("dynamodb:PutItem", registry, (("dynamodb:LeadingKeys", "risk-graph"),)))
    assert not allows(statements, Need("dynamodb:PutItem", registry, (("dynamodb:LeadingKeys", "visual-index"),)))


def test_module_state_is_not_shared_between_scenarios() -> None:
    # The registry app caches its SSM provider in commerce_ai.http; conftest resets it per test.
    assert http._ssm_provider is None
    assert "commerce_ai.http" in sys.modules


def test_the_reprice_chunk_scenario_needs_the_batch_and_conditional_calls_its_policy_grants(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A tick's prices are decided and written by its chunks (RepricingFunction only plans them).
    SCENARIOS["RepriceChunkFunction"](world, monkeypatch, tmp_path)
    needs = needs_of(world.aws, world.ssm)
    catalog, audit = STACK.arn("PricingCatalogTable"), STACK.arn("PricingTable")
    wanted = {Need("dynamodb:UpdateItem", catalog)}  # one conditional update per changed SKU, its record on it
    assert wanted <= needs
    assert {n.action for n in needs if n.resource == audit}, "the chunk's count (and any block) is written"
    # Without the statement that grants the audit's writes, the check would flag the function.
    statements = [
        s for s in statements_of("RepriceChunkFunction") if s.get("Sid") != "WriteAuditEventMarkersCountChunk"
    ]
    assert not allows(statements, Need("dynamodb:BatchWriteItem", audit))
    assert all(allows(statements, n) for n in needs if n.resource != audit)

"""Each function's effective policy - its own statements plus what SAM attaches to its role (policy
templates expanded, managed policies of its events, sends to its destinations) - names only its own
resources (issue 18, part 5). tests/unit/platform/test_iam_agreement.py checks the other direction: that
the same effective policy allows every call the code makes.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest

from infra.template import Stack
from tests.unit.iam import (
    STACK,
    Need,
    _as_list,
    _sam_template_statements,
    added_statements_of,
    allows,
    declared_statements_of,
    statements_of,
)

FUNCTIONS = sorted(fn.logical_id for fn in STACK.functions())
# AWSLambdaBasicExecutionRole writes the function's logs on Resource "*": SAM attaches it to every
# generated role. It is the only wildcard left, and it reaches CloudWatch Logs only.
LOG_ACTIONS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
# The registry itself registers, quarantines and activates every model's versions.
REGISTRY_FUNCTIONS = {"ArtifactEventsFunction", "ArtifactReconcileFunction", "RegistryAdminFunction"}
REGISTRY_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}


def _own_prefixes(stack: Stack) -> list[str]:
    """ARNs of the template's resources and parameters: a resource is its own if it is one or lies under one."""
    arns = []
    for logical_id in stack.resources:
        try:
            arns.append(stack.arn(logical_id))
        except Exception:  # resources without an ARN here (layers, mappings, alarms)
            continue
    env = stack.env
    for name in stack.raw.get("Parameters") or {}:
        if name.endswith("ParameterName"):
            arns.append(f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter/{stack.parameters[name]}")
    return arns


OWN = _own_prefixes(STACK)


def _is_own(resource: str) -> bool:
    return any(resource == arn or resource.startswith(arn + "/") for arn in OWN)


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_the_effective_policy_names_only_the_stacks_own_resources(logical_id: str) -> None:
    foreign = []
    for statement in statements_of(logical_id):
        actions = set(_as_list(statement["Action"]))
        for resource in _as_list(statement["Resource"]):
            if resource == "*" and actions <= LOG_ACTIONS:
                continue
            if not _is_own(str(resource)):
                foreign.append(f"{sorted(actions)} on {resource}")
    assert foreign == [], f"{logical_id} may act beyond its own resources: {foreign}"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_may_poll_only_the_queues_mapped_to_it(logical_id: str) -> None:
    mapped = {STACK.resolve(e.properties["Queue"]) for e in STACK.function(logical_id).events if e.type == "SQS"}
    others = [STACK.arn(q) for q in STACK.of_type("AWS::SQS::Queue") if STACK.arn(q) not in mapped]
    statements = statements_of(logical_id)
    for queue in mapped:  # the mapping's poller needs these three, on this queue
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            assert allows(statements, Need(action, queue)), f"{logical_id} cannot {action} on {queue}"
    polled = [q for q in others for a in ("sqs:ReceiveMessage", "sqs:DeleteMessage") if allows(statements, Need(a, q))]
    assert polled == []


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_parameters_are_read_by_name_without_describe_on_everything(logical_id: str) -> None:
    # SAM's SSMParameterReadPolicy adds ssm:DescribeParameters on "*"; the template grants GetParameter only.
    assert not allows(statements_of(logical_id), Need("ssm:DescribeParameters", "*"))


@pytest.mark.parametrize("logical_id", sorted(set(FUNCTIONS) - REGISTRY_FUNCTIONS))
def test_functions_that_publish_models_write_only_their_own_registry_items(logical_id: str) -> None:
    registry = STACK.arn("ModelRegistryTable")
    for statement in declared_statements_of(logical_id):
        writes = REGISTRY_WRITES & set(_as_list(statement["Action"]))
        if writes and registry in _as_list(statement["Resource"]):
            leading = (statement.get("Condition") or {}).get("ForAllValues:StringEquals", {})
            assert leading.get("dynamodb:LeadingKeys"), f"{logical_id}/{statement.get('Sid')} writes any model"


def test_a_publisher_may_not_write_another_models_registry_items() -> None:
    statements = statements_of("RiskWeeklyFunction")
    registry = STACK.arn("ModelRegistryTable")
    own, other = (("dynamodb:LeadingKeys", "risk-graph"),), (("dynamodb:LeadingKeys", "risk-model"),)
    assert allows(statements, Need("dynamodb:PutItem", registry, own))
    assert not allows(statements, Need("dynamodb:PutItem", registry, other))
    assert not allows(statements, Need("dynamodb:PutItem", registry))  # a request the key cannot be read from
    assert allows(statements, Need("dynamodb:Query", registry, other))  # reads stay open: champions, pointers


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_list_permissions_carry_prefix_conditions(logical_id: str) -> None:
    # The artifact bucket included: a reader needs no list grant (a missing key's 403 is read as missing,
    # commerce_ai.artifacts.store), and a publisher lists only its own model's prefix.
    for statement in statements_of(logical_id):
        if any(fnmatch.fnmatchcase("s3:ListBucket", str(a)) for a in _as_list(statement["Action"])):
            condition = (statement.get("Condition") or {}).get("StringLike", {})
            prefixes = _as_list(condition.get("s3:prefix") or [])
            assert prefixes and all(p not in ("*", "") for p in prefixes), f"{logical_id} lists a whole bucket"


def test_a_publisher_lists_only_its_own_models_versions() -> None:
    bucket = STACK.arn("ArtifactBucket")
    statements = statements_of("RiskWeeklyFunction")
    assert allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "models/risk-graph/v1/manifest.json"),)))
    assert not allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "models/risk-model/"),)))
    assert not allows(statements, Need("s3:ListBucket", bucket))
    # and a function that only reads models lists nothing
    assert not allows(statements_of("RiskApiFunction"), Need("s3:ListBucket", bucket, (("s3:prefix", "models/"),)))


# ------------------------------------------------------------------------------- the model of SAM


def test_a_sam_sqs_event_would_reach_every_queue() -> None:
    # What the explicit mappings avoid: the checker models the managed policy SAM's SQS event attaches.
    resource = STACK.resources["ArtifactEventsFunction"]
    events = resource["Properties"].setdefault("Events", {})
    try:
        events["Legacy"] = {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["ArtifactEventsQueue", "Arn"]}}}
        added = added_statements_of("ArtifactEventsFunction")
        assert allows(added, Need("sqs:DeleteMessage", STACK.arn("CatalogImportsQueue")))
    finally:
        events.pop("Legacy")
    assert not allows(
        statements_of("ArtifactEventsFunction"), Need("sqs:DeleteMessage", STACK.arn("CatalogImportsQueue"))
    )


def test_the_ssm_policy_template_is_modelled_with_its_describe_on_everything() -> None:
    expanded: list[dict[str, Any]] = _sam_template_statements("SSMParameterReadPolicy", {"ParameterName": "p"})
    assert allows(expanded, Need("ssm:DescribeParameters", "*"))


def test_a_schedules_failure_destination_is_in_its_effective_policy() -> None:
    failures = STACK.arn("ScheduledInvocationFailuresQueue")
    assert allows(statements_of("RepricingFunction"), Need("sqs:SendMessage", failures))
    assert not allows(declared_statements_of("RepricingFunction"), Need("sqs:SendMessage", failures))
    assert not allows(statements_of("CatalogApiFunction"), Need("sqs:SendMessage", failures))

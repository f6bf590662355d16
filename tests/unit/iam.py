"""The IAM agreement check's machinery (tests/unit/platform/test_iam_agreement.py): calls recorded by the fakes
become IAM needs, the template's policy statements are evaluated against them, and a `World` lays out
in-memory AWS the way the template does. Each capability's scenarios live beside its unit tests, in
`tests/unit/<capability>/iam_scenarios.py` (a `SCENARIOS` map of function logical id -> scenario).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import manifest_digest
from commerce_ai.config import clear_cached_settings
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.template import Stack
from model_build import Built, publish
from tests.unit.fakes import FakeAws, FakeSSMProvider

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

# Tables whose statements may carry a dynamodb:LeadingKeys condition (a function that publishes model
# versions writes only its own models' registry items): their needs carry the item's partition key.
_LEADING_KEY_TABLES = {STACK.physical_name("ModelRegistryTable")}


def needs_of(aws: FakeAws, ssm: FakeSSMProvider) -> set[Need]:
    env = STACK.env
    needs: set[Need] = set()
    for operation, params in aws.dynamodb.log:
        table = f"arn:{env.partition}:dynamodb:{env.region}:{env.account}:table/{params['TableName']}"
        if "IndexName" in params:  # a Query of an index is authorised on the index's ARN
            table = f"{table}/index/{params['IndexName']}"
        context: tuple[tuple[str, str], ...] = ()
        if params["TableName"] in _LEADING_KEY_TABLES and "LeadingKey" in params:
            context = (("dynamodb:LeadingKeys", params["LeadingKey"]),)
        needs.add(Need(f"dynamodb:{operation}", table, context))
    for operation, params in aws.s3.log:
        bucket = f"arn:{env.partition}:s3:::{params['Bucket']}"
        if operation in ("GetObject", "HeadObject", "DownloadFile"):  # all authorised as s3:GetObject
            # A missing key needs no list grant: S3 then answers 403, which ArtifactStore reads as missing.
            needs.add(Need("s3:GetObject", f"{bucket}/{params['Key']}"))
        elif operation == "ListObjectsV2":
            needs.add(Need("s3:ListBucket", bucket, (("s3:prefix", params["Prefix"]),)))
        else:
            needs.add(Need(f"s3:{operation}", f"{bucket}/{params['Key']}"))
    for sent in aws.sqs.sent:
        queue = sent["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        needs.add(Need("sqs:SendMessage", f"arn:{env.partition}:sqs:{env.region}:{env.account}:{queue}"))
    for post in aws.apigatewaymanagementapi.posted:
        # https://{api}.execute-api.{region}.amazonaws.com/{stage} -> the connection's execute-api ARN
        api = post["Endpoint"].split("://", 1)[-1].split(".", 1)[0]
        stage = post["Endpoint"].rstrip("/").rsplit("/", 1)[-1]
        connection = f"{api}/{stage}/POST/@connections/{post['ConnectionId']}"
        needs.add(
            Need(
                "execute-api:ManageConnections",
                f"arn:{env.partition}:execute-api:{env.region}:{env.account}:{connection}",
            )
        )
    for key_id in aws.apigateway.read:  # GetApiKey is authorised as apigateway:GET on the key
        needs.add(Need("apigateway:GET", f"arn:{env.partition}:apigateway:{env.region}::/apikeys/{key_id}"))
    for call in aws.sns.calls:
        needs.add(Need("sns:Publish", call["TopicArn"]))  # PublishBatch is authorised as sns:Publish
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


# What SAM adds to a function's generated role besides its `Policies` (the managed policies' documents as
# AWS publishes them): every function gets AWSLambdaBasicExecutionRole; Tracing: Active adds
# AWSXRayDaemonWriteAccess; each event of these types adds its poller's managed policy, on every resource.
_BASIC_EXECUTION = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": "*",
}
_XRAY = {
    "Effect": "Allow",
    "Action": [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
    ],
    "Resource": "*",
}
_EVENT_MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    # AWSLambdaSQSQueueExecutionRole: receive and delete on every queue of the account
    "SQS": {
        "Effect": "Allow",
        "Action": [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ],
        "Resource": "*",
    },
    # AWSLambdaKinesisExecutionRole / AWSLambdaDynamoDBExecutionRole: every stream of the account
    "Kinesis": {"Effect": "Allow", "Action": ["kinesis:*"], "Resource": "*"},
    "DynamoDB": {
        "Effect": "Allow",
        "Action": [
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:DescribeStream",
            "dynamodb:ListStreams",
        ],
        "Resource": "*",
    },
}
# The actions SAM grants for a destination or dead-letter target of each type, on that target only.
_TARGET_ACTIONS = {
    "SQS": "sqs:SendMessage",
    "SNS": "sns:Publish",
    "Lambda": "lambda:InvokeFunction",
    "EventBridge": "events:PutEvents",
}


def declared_statements_of(logical_id: str) -> list[dict[str, Any]]:
    """The statements of the function's `Policies`, SAM policy templates expanded."""
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


def added_statements_of(logical_id: str) -> list[dict[str, Any]]:
    """What SAM attaches to the function's role besides its `Policies`: managed policies for logs,
    tracing and stream or queue events, and sends to its asynchronous destinations and dead-letter target."""
    props = STACK.resources[logical_id]["Properties"]
    function_globals = (STACK.raw.get("Globals") or {}).get("Function") or {}
    added = [dict(_BASIC_EXECUTION)]
    if props.get("Tracing", function_globals.get("Tracing")) == "Active":
        added.append(dict(_XRAY))
    for event in (props.get("Events") or {}).values():
        if event.get("Type") in _EVENT_MANAGED_POLICIES:
            added.append(dict(_EVENT_MANAGED_POLICIES[event["Type"]]))
    destinations = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig")) or {}
    targets = [(d.get("Type"), d.get("Destination")) for d in destinations.values() if isinstance(d, dict)]
    dead_letter = props.get("DeadLetterQueue")
    if dead_letter:
        targets.append((dead_letter.get("Type"), dead_letter.get("TargetArn")))
    for kind, target in targets:
        if kind not in _TARGET_ACTIONS:
            raise AssertionError(f"{logical_id}: destination type {kind} is not modelled here")
        added.append({"Effect": "Allow", "Action": _TARGET_ACTIONS[kind], "Resource": STACK.resolve(target)})
    return added


def statements_of(logical_id: str) -> list[dict[str, Any]]:
    """The function's effective policy: its declared statements and what SAM adds to its role."""
    return declared_statements_of(logical_id) + added_statements_of(logical_id)


def _conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, patterns in tests.items():
            if key not in context:
                return False
            value = context[key]
            if operator.startswith("ForAllValues:"):  # each of the request's values (a need carries one)
                operator = operator.split(":", 1)[1]
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


# ------------------------------------------------------------------------------- the world

_BUILT: dict[str, list[Built]] = {}  # real artifacts take seconds to build: once per session


@dataclass
class World:
    aws: FakeAws
    ssm: FakeSSMProvider
    bucket: str
    registry: ModelRegistry
    scratch: Callable[[str], Path]  # a new directory that lasts the session
    cached: list[Any] = field(default_factory=list)  # what lives as long as a warm container

    def forget_setup(self) -> None:
        self.aws.dynamodb.log.clear()
        self.aws.s3.log.clear()
        self.aws.sqs.sent.clear()
        self.aws.sns.calls.clear()
        self.aws.apigatewaymanagementapi.posted.clear()
        self.aws.apigateway.read.clear()
        self.ssm.calls.clear()

    def built(self, key: str, build: Callable[[Path], list[Built]]) -> list[Built]:
        """`build(directory)`'s artifacts, built once per session under `key`."""
        if key not in _BUILT:
            _BUILT[key] = build(self.scratch(key))
        return _BUILT[key]

    def serve(self, artifacts: list[Built]) -> None:
        """Publish and activate each artifact as version v1, as `commerce-ai up` does."""
        for built in artifacts:
            store = ArtifactStore(self.bucket, s3=self.aws.s3)
            publish(store, built, "v1")
            # the digest validation records, which the loader insists on
            self.registry.register_candidate(
                built.name, "v1", manifest_digest(store.read_manifest(built.name, "v1")), {}
            )
            self.registry.activate(built.name, "v1")


# A scenario runs one function's main paths in a World: (world, monkeypatch, tmp_path) -> None.
Scenario = Callable[["World", pytest.MonkeyPatch, Path], None]


def configure(monkeypatch: pytest.MonkeyPatch, logical_id: str, tmp_path: Path) -> Any:
    fn = STACK.function(logical_id)
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", fn.physical_name)
    clear_cached_settings()
    return load_handler(fn.code_uri, fn.module, fn.attribute), LambdaContext(fn.physical_name)

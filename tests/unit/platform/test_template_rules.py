"""Rules for template.yaml that cfn-lint does not check, each one a function returning its violations.

Every rule runs against the real template (which must have none) and against a deliberately broken copy
(which must be reported), so a rule that silently stopped checking would fail here too.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet

from infra.runner.scheduler import ScheduleError, rate_seconds
from infra.template import ROOT, Stack, TemplateError

Rule = Callable[[Stack], list[str]]
FORBIDDEN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def _events(stack: Stack, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for fn in stack.functions():
        for event in fn.events:
            if event.type == kind:
                yield fn.logical_id, event.name, event.properties


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------- the rules


def schedule_rule(stack: Stack) -> list[str]:
    problems = []
    for fn, name, props in _events(stack, "Schedule"):
        try:
            rate_seconds(str(props.get("Schedule")))
        except ScheduleError as exc:
            problems.append(f"{fn}.{name}: {exc}")
    return problems


def sqs_event_rule(stack: Stack) -> list[str]:
    problems = []
    for fn, name, props in _events(stack, "SQS"):
        if "ReportBatchItemFailures" not in _as_list(props.get("FunctionResponseTypes")):
            problems.append(f"{fn}.{name}: FunctionResponseTypes lacks ReportBatchItemFailures")
        batch = int(props.get("BatchSize", 10))
        window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        limit = 10_000 if window > 0 else 10
        if not 1 <= batch <= limit:
            problems.append(f"{fn}.{name}: BatchSize {batch} outside 1..{limit} (batching window {window:g}s)")
    return problems


def _dlq_target(props: dict[str, Any]) -> Any:
    return (props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")


def _on_failure_destinations(stack: Stack) -> set[str]:
    """Queues that a function's asynchronous invocations fail to (EventInvokeConfig): DLQs of a kind."""
    found = set()
    for resource in stack.of_type("AWS::Serverless::Function").values():
        config = (resource.get("Properties") or {}).get("EventInvokeConfig") or {}
        for destination in (config.get("DestinationConfig") or {}).values():
            target = (destination or {}).get("Destination")
            if isinstance(target, dict) and "Fn::GetAtt" in target:
                found.add(target["Fn::GetAtt"][0])
    return found


def queue_redrive_rule(stack: Stack) -> list[str]:
    queues = stack.of_type("AWS::SQS::Queue")
    problems = []
    dead_letter_queues: set[str] = set()
    for logical_id, resource in queues.items():
        props = resource.get("Properties") or {}
        if "RedrivePolicy" not in props:
            continue
        target = _dlq_target(props)
        get_att = target.get("Fn::GetAtt") if isinstance(target, dict) else None
        if not (isinstance(get_att, list) and len(get_att) == 2 and get_att[1] == "Arn"):
            problems.append(f"{logical_id}: deadLetterTargetArn must be !GetAtt <Queue>.Arn, not {target!r}")
        elif get_att[0] not in queues or get_att[0] == logical_id:
            problems.append(f"{logical_id}: deadLetterTargetArn names {get_att[0]}, not another queue here")
        else:
            dead_letter_queues.add(get_att[0])
        try:
            receives = int(props["RedrivePolicy"].get("maxReceiveCount", 0))
        except (TypeError, ValueError):
            receives = 0
        if receives < 1:
            problems.append(f"{logical_id}: maxReceiveCount must be >= 1")
    dead_letter_queues |= _on_failure_destinations(stack)
    for logical_id, resource in queues.items():
        props = resource.get("Properties") or {}
        if "RedrivePolicy" not in props and logical_id not in dead_letter_queues:
            problems.append(f"{logical_id}: neither has a RedrivePolicy nor is any queue's DLQ")
    return problems


def visibility_timeout_rule(stack: Stack) -> list[str]:
    problems = []
    for fn in stack.functions():
        for event in fn.events:
            if event.type != "SQS":
                continue
            queue = stack.logical_id_for_arn(str(stack.resolve(event.properties["Queue"])))
            props = stack.resources[queue].get("Properties") or {}
            visibility = int(stack.resolve(props.get("VisibilityTimeout", 30)))
            if visibility < 6 * fn.timeout:
                problems.append(f"{queue}: VisibilityTimeout {visibility}s < 6 x {fn.logical_id} Timeout {fn.timeout}s")
    return problems


POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")  # what Lambda's poller calls


def event_source_mapping_rule(stack: Stack) -> list[str]:
    """Queues are consumed through explicit AWS::Lambda::EventSourceMapping resources, never SAM's SQS
    event (which attaches AWSLambdaSQSQueueExecutionRole: receive and delete on every queue of the
    account), and each consumer's own policy lets the mapping poll its queue, and only that queue."""
    problems = []
    for logical_id, resource in stack.of_type("AWS::Serverless::Function").items():
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") in ("SQS", "Kinesis", "DynamoDB", "MQ", "MSK", "SelfManagedKafka", "DocumentDB"):
                problems.append(f"{logical_id}.{name}: a SAM {event['Type']} event; declare an EventSourceMapping")
    for fn in stack.functions():
        mapped = {str(stack.resolve(e.properties["Queue"])) for e in fn.events if e.type == "SQS"}
        resource = stack.resources[fn.logical_id]
        statements = [
            stack.resolve(statement)
            for policy in _as_list((resource.get("Properties") or {}).get("Policies"))
            if isinstance(policy, dict)
            for statement in _statements(policy)
        ]
        for queue in sorted(mapped):
            for action in POLL_ACTIONS:
                if not any(
                    action in _as_list(s.get("Action")) and queue in _as_list(s.get("Resource")) for s in statements
                ):
                    problems.append(f"{fn.logical_id}: no {action} on its mapped queue {queue}")
        for statement in statements:
            if set(POLL_ACTIONS) & set(_as_list(statement.get("Action"))):
                for queue in _as_list(statement.get("Resource")):
                    if queue not in mapped:
                        problems.append(
                            f"{fn.logical_id}/{statement.get('Sid')}: polls {queue}, not a queue of its own"
                        )
    return problems


def _runtime_version(runtime: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"python3\.(\d+)", runtime)
    return (3, int(match.group(1))) if match else None


def _supported_pythons() -> SpecifierSet:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return SpecifierSet(project["requires-python"])


def runtime_rule(stack: Stack) -> list[str]:
    """One Python runtime for every function, one the project supports, and every layer built for it."""
    runtimes = {fn.runtime for fn in stack.functions() if not fn.image}  # an image brings its own Python
    if len(runtimes) != 1:
        return [f"functions use several runtimes: {sorted(runtimes)}"]
    (runtime,) = runtimes
    version = _runtime_version(runtime)
    if version is None:
        return [f"Runtime {runtime!r} is not python3.x"]
    problems = []
    if f"{version[0]}.{version[1]}" not in _supported_pythons():
        problems.append(f"Runtime {runtime} is outside pyproject's requires-python {_supported_pythons()}")
    for logical_id, layer in stack.of_type("AWS::Serverless::LayerVersion").items():
        if runtime not in _as_list((layer.get("Properties") or {}).get("CompatibleRuntimes")):
            problems.append(f"{logical_id}: CompatibleRuntimes lacks {runtime}")
        build = (layer.get("Metadata") or {}).get("BuildMethod")
        if build == "makefile":
            content = stack.root / str(layer["Properties"].get("ContentUri", ""))
            makefile = (content / "Makefile").read_text() if (content / "Makefile").is_file() else ""
            if f"build-{logical_id}:" not in makefile:
                problems.append(f"{logical_id}: BuildMethod makefile but {content}/Makefile has no build-{logical_id}")
            targets = set(re.findall(r"--python-version\s+(\d+\.\d+)", makefile))
            if targets != {f"{version[0]}.{version[1]}"}:
                problems.append(f"{logical_id}: Makefile builds wheels for {sorted(targets)}, runtime is {runtime}")
        elif build != runtime:
            problems.append(f"{logical_id}: BuildMethod {build!r} differs from the runtime {runtime}")
    return problems


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def policy_rule(stack: Stack) -> list[str]:
    problems = []
    for logical_id, resource in stack.of_type("AWS::Serverless::Function").items():
        policies = _as_list((resource.get("Properties") or {}).get("Policies"))
        if not policies:
            problems.append(f"{logical_id}: no Policies (it would get none, or someone adds a broad one)")
        for policy in policies:
            if isinstance(policy, str):
                name = policy.rsplit("/", 1)[-1]
                if name.endswith("FullAccess") or name in FORBIDDEN_MANAGED_POLICIES:
                    problems.append(f"{logical_id}: broad managed policy {policy}")
                continue
            if not isinstance(policy, dict):
                continue
            for statement in _statements(policy):
                sid = statement.get("Sid", "?")
                if "*" in _as_list(statement.get("Resource")):
                    problems.append(f"{logical_id}/{sid}: Resource '*'")
                if "*" in _as_list(statement.get("Action")):
                    problems.append(f"{logical_id}/{sid}: Action '*'")
    return problems


def layer_rule(stack: Stack) -> list[str]:
    problems = []
    for fn in stack.functions():
        for layer in fn.layers:
            resource = stack.resources.get(layer)
            if resource is None or resource.get("Type") != "AWS::Serverless::LayerVersion":
                problems.append(f"{fn.logical_id}: layer {layer} is not a LayerVersion in the template")
                continue
            content = stack.root / str((resource.get("Properties") or {}).get("ContentUri", ""))
            if not (content / "requirements.txt").is_file():
                problems.append(f"{fn.logical_id}: layer {layer} has no requirements.txt in {content}")
    return problems


def api_path_rule(stack: Stack) -> list[str]:
    return [
        f"{fn}.{name}: Path {props.get('Path')!r} must start with '/'"
        for fn, name, props in _events(stack, "Api")
        if not str(props.get("Path", "")).startswith("/")
    ]


def topic_subscription_rule(stack: Stack) -> list[str]:
    """Each SNS subscription delivers raw messages to a queue of this template that has a DLQ (so one
    consumer's failures stay in its own queue) and that a queue policy lets exactly that topic send to."""
    problems = []
    policies = [stack.resolve(r["Properties"]) for r in stack.of_type("AWS::SQS::QueuePolicy").values()]
    for logical_id, resource in stack.of_type("AWS::SNS::Subscription").items():
        props = resource.get("Properties") or {}
        if props.get("Protocol") != "sqs":
            problems.append(f"{logical_id}: Protocol {props.get('Protocol')!r}, not sqs")
            continue
        if props.get("RawMessageDelivery") is not True:
            problems.append(f"{logical_id}: RawMessageDelivery is not true (consumers read the event as the body)")
        endpoint, topic = str(stack.resolve(props.get("Endpoint"))), str(stack.resolve(props.get("TopicArn")))
        try:
            queue = stack.logical_id_for_arn(endpoint)
        except TemplateError:
            problems.append(f"{logical_id}: Endpoint {endpoint} is not a queue of this template")
            continue
        if "RedrivePolicy" not in (stack.resources[queue].get("Properties") or {}):
            problems.append(f"{logical_id}: queue {queue} has no RedrivePolicy")
        allowed = any(
            stack.queue_url(queue) in policy["Queues"]
            and any(
                statement.get("Principal") == {"Service": "sns.amazonaws.com"}
                and "sqs:SendMessage" in _as_list(statement.get("Action"))
                and endpoint in _as_list(statement.get("Resource"))
                and (statement.get("Condition") or {}).get("ArnEquals", {}).get("aws:SourceArn") == topic
                for statement in _as_list(policy["PolicyDocument"].get("Statement"))
            )
            for policy in policies
        )
        if not allowed:
            problems.append(f"{logical_id}: no queue policy lets {topic} send to {queue}")
    return problems


RULES: list[Rule] = [
    topic_subscription_rule,
    schedule_rule,
    sqs_event_rule,
    event_source_mapping_rule,
    queue_redrive_rule,
    visibility_timeout_rule,
    runtime_rule,
    policy_rule,
    layer_rule,
    api_path_rule,
]


# ------------------------------------------------------------------------------- the real template


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_the_template_obeys(rule: Rule, stack: Stack) -> None:
    assert rule(stack) == []


def test_the_template_exercises_every_rule(stack: Stack) -> None:
    # A rule over an empty set passes vacuously; make sure each kind of thing it checks exists.
    assert list(_events(stack, "Schedule"))
    assert list(_events(stack, "SQS"))
    assert list(_events(stack, "Api"))
    assert stack.of_type("AWS::SQS::Queue")
    assert stack.of_type("AWS::SNS::Subscription")
    assert all(fn.layers for fn in stack.functions() if not fn.image)


# ------------------------------------------------------------------------------- broken copies


@pytest.fixture
def broken() -> Stack:
    """A private, mutable copy of the real template."""
    fresh = Stack()
    fresh.raw = copy.deepcopy(fresh.raw)
    fresh.resources = fresh.raw["Resources"]
    return fresh


def _props(stack: Stack, logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = stack.resources[logical_id]["Properties"]
    return props


def _first_event(stack: Stack, kind: str) -> dict[str, Any]:
    if kind == "SQS":  # queues are read through explicit mappings: their properties are the event's
        mapping = next(iter(stack.of_type("AWS::Lambda::EventSourceMapping").values()))
        mapped: dict[str, Any] = mapping["Properties"]
        return mapped
    for resource in stack.of_type("AWS::Serverless::Function").values():
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == kind:
                props: dict[str, Any] = event["Properties"]
                return props
    raise AssertionError(f"no {kind} event")


def _sqs_consumer(stack: Stack, queue: str = "ArtifactEventsQueue") -> str:
    """The function whose SQS event reads `queue`."""
    arn = stack.arn(queue)
    return next(
        fn.logical_id
        for fn in stack.functions()
        if any(e.type == "SQS" and stack.resolve(e.properties["Queue"]) == arn for e in fn.events)
    )


@pytest.mark.parametrize("expression", ["rate(1 hours)", "rate(2 hour)", "rate(0 minutes)", "cron(0 * * * ? *)"])
def test_schedule_rule_reports_bad_expressions(broken: Stack, expression: str) -> None:
    _first_event(broken, "Schedule")["Schedule"] = expression
    assert len(schedule_rule(broken)) == 1


def test_sqs_rule_reports_missing_partial_batch_responses(broken: Stack) -> None:
    _first_event(broken, "SQS").pop("FunctionResponseTypes")
    assert ["lacks ReportBatchItemFailures" in p for p in sqs_event_rule(broken)] == [True]


@pytest.mark.parametrize(
    ("batch", "window", "reported"),
    [(0, 0, True), (10, 0, False), (11, 0, True), (11, 1, False), (10_000, 5, False), (10_001, 5, True)],
)
def test_sqs_rule_bounds_batch_size_by_batching_window(broken: Stack, batch: int, window: int, reported: bool) -> None:
    event = _first_event(broken, "SQS")
    event["BatchSize"] = batch
    event["MaximumBatchingWindowInSeconds"] = window
    assert bool(sqs_event_rule(broken)) is reported


def test_mapping_rule_reports_a_sam_sqs_event(broken: Stack) -> None:
    # SAM's SQS event would attach AWSLambdaSQSQueueExecutionRole: every queue of the account.
    queue = {"Fn::GetAtt": ["ArtifactEventsQueue", "Arn"]}
    _props(broken, "ArtifactEventsFunction")["Events"] = {"Again": {"Type": "SQS", "Properties": {"Queue": queue}}}
    assert "ArtifactEventsFunction.Again: a SAM SQS event; declare an EventSourceMapping" in event_source_mapping_rule(
        broken
    )


def _poll_statement(stack: Stack, function: str) -> dict[str, Any]:
    for policy in _props(stack, function)["Policies"]:
        for statement in _statements(policy) if isinstance(policy, dict) else []:
            if "sqs:ReceiveMessage" in _as_list(statement["Action"]):
                return statement
    raise AssertionError(f"{function} polls nothing")


def test_mapping_rule_reports_a_consumer_that_may_not_poll_its_queue(broken: Stack) -> None:
    _poll_statement(broken, "ArtifactEventsFunction")["Action"] = ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"]
    (problem,) = event_source_mapping_rule(broken)
    assert problem.startswith("ArtifactEventsFunction: no sqs:DeleteMessage on its mapped queue")


def test_mapping_rule_reports_a_consumer_that_may_poll_another_queue(broken: Stack) -> None:
    _poll_statement(broken, "ArtifactEventsFunction")["Resource"] = [
        {"Fn::GetAtt": ["ArtifactEventsQueue", "Arn"]},
        {"Fn::GetAtt": ["CatalogImportsQueue", "Arn"]},
    ]
    (problem,) = event_source_mapping_rule(broken)
    assert problem.endswith(f"polls {broken.arn('CatalogImportsQueue')}, not a queue of its own")


def test_redrive_rule_reports_a_queue_with_no_dlq(broken: Stack) -> None:
    _props(broken, "ArtifactEventsQueue").pop("RedrivePolicy")
    problems = queue_redrive_rule(broken)
    # Both the source queue and its former DLQ are now unprotected / orphaned.
    assert sorted(p.split(":")[0] for p in problems) == ["ArtifactEventsDLQ", "ArtifactEventsQueue"]


@pytest.mark.parametrize(
    "target",
    [
        {"Fn::GetAtt": ["ModelRegistryTable", "Arn"]},
        {"Fn::GetAtt": ["ArtifactEventsQueue", "Arn"]},
        {"Fn::GetAtt": ["ArtifactEventsDLQ", "QueueUrl"]},
        "arn:aws:sqs:us-east-1:123456789012:elsewhere",
    ],
)
def test_redrive_rule_reports_a_target_that_is_not_another_queue(broken: Stack, target: Any) -> None:
    _props(broken, "ArtifactEventsQueue")["RedrivePolicy"]["deadLetterTargetArn"] = target
    assert any(p.startswith("ArtifactEventsQueue: deadLetterTargetArn") for p in queue_redrive_rule(broken))


@pytest.mark.parametrize("count", [0, -1, "x", None])
def test_redrive_rule_requires_a_positive_max_receive_count(broken: Stack, count: Any) -> None:
    _props(broken, "ArtifactEventsQueue")["RedrivePolicy"]["maxReceiveCount"] = count
    assert queue_redrive_rule(broken) == ["ArtifactEventsQueue: maxReceiveCount must be >= 1"]


def test_visibility_rule_reports_a_queue_shorter_than_six_consumer_timeouts(broken: Stack) -> None:
    consumer = _sqs_consumer(broken)
    timeout = broken.function(consumer).timeout
    _props(broken, "ArtifactEventsQueue")["VisibilityTimeout"] = 6 * timeout - 1
    assert len(visibility_timeout_rule(broken)) == 1
    _props(broken, "ArtifactEventsQueue")["VisibilityTimeout"] = 6 * timeout
    assert visibility_timeout_rule(broken) == []


def test_visibility_rule_follows_a_raised_function_timeout(broken: Stack) -> None:
    visibility = _props(broken, "ArtifactEventsQueue")["VisibilityTimeout"]
    _props(broken, _sqs_consumer(broken))["Timeout"] = visibility // 6 + 1
    assert len(visibility_timeout_rule(broken)) == 1


def test_runtime_rule_reports_mixed_runtimes(broken: Stack) -> None:
    shipped = _runtime(broken)
    _props(broken, "ArtifactReconcileFunction")["Runtime"] = "python3.99"
    assert runtime_rule(broken) == [f"functions use several runtimes: {sorted({'python3.99', shipped})}"]


def _runtime(stack: Stack) -> str:
    (runtime,) = {fn.runtime for fn in stack.functions() if not fn.image}
    return runtime


def _zip_functions(stack: Stack) -> list[dict[str, Any]]:
    return [_props(stack, fn.logical_id) for fn in stack.functions() if not fn.image]


def test_runtime_rule_reports_an_unsupported_python(broken: Stack) -> None:
    for props in _zip_functions(broken):
        props["Runtime"] = "python3.10"
    problems = runtime_rule(broken)
    assert problems[0].startswith("Runtime python3.10 is outside pyproject's requires-python")
    assert "CoreLayer: CompatibleRuntimes lacks python3.10" in problems


def test_runtime_rule_reports_a_layer_without_the_runtime(broken: Stack) -> None:
    _props(broken, "MlLayer")["CompatibleRuntimes"] = ["python3.9"]
    assert runtime_rule(broken) == [f"MlLayer: CompatibleRuntimes lacks {_runtime(broken)}"]


def test_runtime_rule_reports_a_layer_built_for_another_python(broken: Stack, tmp_path: Path) -> None:
    makefile = (broken.root / "layers/ml/Makefile").read_text()
    (tmp_path / "Makefile").write_text(re.sub(r"--python-version \S+", "--python-version 3.8", makefile))
    (tmp_path / "requirements.txt").write_text("")
    _props(broken, "MlLayer")["ContentUri"] = str(tmp_path)
    broken.resources["MlLayer"].setdefault("Metadata", {})["BuildMethod"] = "makefile"
    assert runtime_rule(broken) == [f"MlLayer: Makefile builds wheels for ['3.8'], runtime is {_runtime(broken)}"]


def test_runtime_rule_reports_a_python_build_method_for_another_version(broken: Stack) -> None:
    broken.resources["CoreLayer"]["Metadata"] = {"BuildMethod": "python3.9"}
    assert runtime_rule(broken) == [f"CoreLayer: BuildMethod 'python3.9' differs from the runtime {_runtime(broken)}"]


@pytest.mark.parametrize(
    "policy",
    [
        {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
        {"Statement": [{"Sid": "Wide", "Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": "arn:x"}]},
        {"Statement": {"Sid": "Wide", "Effect": "Allow", "Action": "*", "Resource": ["arn:x", "*"]}},
        "AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ],
)
def test_policy_rule_reports_wildcards_and_broad_managed_policies(broken: Stack, policy: Any) -> None:
    _props(broken, "RegistryApiFunction")["Policies"].append(policy)
    problems = policy_rule(broken)
    assert problems and all(p.startswith("RegistryApiFunction") for p in problems)


def test_policy_rule_reports_a_function_without_policies(broken: Stack) -> None:
    _props(broken, "ArtifactEventsFunction").pop("Policies")
    assert policy_rule(broken) == [
        "ArtifactEventsFunction: no Policies (it would get none, or someone adds a broad one)"
    ]


def test_policy_rule_accepts_wildcards_inside_scoped_arns(stack: Stack) -> None:
    # `${ArtifactBucket.Arn}/models/*` is a scoped resource, not Resource '*'.
    statements = [
        s for p in _props(stack, "RegistryApiFunction")["Policies"] if isinstance(p, dict) for s in _statements(p)
    ]
    assert any("*" in str(s["Resource"]) for s in statements)
    assert policy_rule(stack) == []


def test_layer_rule_reports_an_undeclared_layer(broken: Stack) -> None:
    _props(broken, "ArtifactEventsFunction")["Layers"] = [{"Ref": "ModelRegistryTable"}]
    problems = layer_rule(broken)
    assert any("not a LayerVersion" in p for p in problems)


def test_layer_rule_reports_a_layer_without_requirements(broken: Stack, tmp_path: Path) -> None:
    _props(broken, "MlLayer")["ContentUri"] = str(tmp_path)  # absolute: joins to itself
    problems = layer_rule(broken)
    # every function that uses MlLayer (read from the template, so a new capability needs no edit here)
    users = sorted(fn.logical_id for fn in broken.functions() if "MlLayer" in fn.layers)
    assert len(users) >= 2
    assert sorted(problems) == [f"{fn}: layer MlLayer has no requirements.txt in {tmp_path}" for fn in users]


def test_api_path_rule_reports_a_relative_path(broken: Stack) -> None:
    _first_event(broken, "Api")["Path"] = "health"
    (problem,) = api_path_rule(broken)
    assert problem.endswith(": Path 'health' must start with '/'")


def test_visibility_rule_names_an_unknown_queue(broken: Stack) -> None:
    _first_event(broken, "SQS")["EventSourceArn"] = "arn:aws:sqs:us-east-1:123456789012:not-in-template"
    with pytest.raises(TemplateError, match="no resource has ARN"):
        visibility_timeout_rule(broken)


@pytest.mark.parametrize(
    ("change", "reported"),
    [
        (lambda props: props.update(RawMessageDelivery=False), "RawMessageDelivery"),
        (lambda props: props.update(Protocol="https"), "not sqs"),
        (lambda props: props.update(Endpoint="arn:aws:sqs:us-east-1:123456789012:elsewhere"), "not a queue"),
    ],
)
def test_subscription_rule_reports_a_subscription_that_is_not_raw_sqs_to_our_queue(
    broken: Stack, change: Callable[[dict[str, Any]], None], reported: str
) -> None:
    change(_props(broken, "BehaviourArchiveSubscription"))
    assert any(reported in p for p in topic_subscription_rule(broken))


def test_subscription_rule_reports_a_queue_without_dlq_or_without_the_topics_permission(broken: Stack) -> None:
    del _props(broken, "BehaviourArchiveQueue")["RedrivePolicy"]
    policy = _props(broken, "BehaviourSubscriptionsQueuePolicy")
    policy["PolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] = "arn:aws:sns:x:1:other"
    problems = topic_subscription_rule(broken)
    assert any("BehaviourArchiveQueue has no RedrivePolicy" in p for p in problems)
    assert any("no queue policy lets" in p and "BehaviourArchiveQueue" in p for p in problems)

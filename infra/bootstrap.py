"""Create every resource template.yaml declares in the (local) AWS endpoint, idempotently.

There is no second list of resources: buckets (with notifications and lifecycle rules), tables, queues
with their DLQs and redrive policies, queue policies, SNS topics and their SQS subscriptions all come
from the template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from commerce_ai import aws
from infra.template import Function, FunctionEvent, Stack, TemplateError

# Keep in step with the SSM parameters the template's functions read (ADMIN_API_KEY_PARAMETER,
# INGEST_API_KEY_PARAMETER).
ADMIN_KEY_TEMPLATE_PARAMETER = "AdminApiKeyParameterName"
INGEST_KEY_TEMPLATE_PARAMETER = "IngestApiKeyParameterName"
PSEUDONYM_KEY_TEMPLATE_PARAMETER = "RiskPseudonymKeyParameterName"  # RISK_PSEUDONYM_KEY_PARAMETER


@dataclass
class BootstrapReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)

    def note(self, created: bool, what: str) -> None:
        (self.created if created else self.existing).append(what)


def s3_delivery_queue(stack: Stack, fn: Function, event: FunctionEvent) -> str:
    """The queue the local runner polls to deliver `event` (an S3 event) to `fn`."""
    return f"{stack.env.stack}-{fn.logical_id}-{event.name}-s3"


def admin_key_parameter(stack: Stack) -> str:
    return "/" + stack.parameters[ADMIN_KEY_TEMPLATE_PARAMETER].lstrip("/")


def ingest_key_parameter(stack: Stack) -> str:
    return "/" + stack.parameters[INGEST_KEY_TEMPLATE_PARAMETER].lstrip("/")


def _queue_attributes(stack: Stack, props: dict[str, Any]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    simple = {
        "VisibilityTimeout": "VisibilityTimeout",
        "MessageRetentionPeriod": "MessageRetentionPeriod",
        "DelaySeconds": "DelaySeconds",
        "ReceiveMessageWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "MaximumMessageSize": "MaximumMessageSize",
    }
    for prop, attribute in simple.items():
        if prop in props:
            attributes[attribute] = str(stack.resolve(props[prop]))
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(stack.resolve(props["RedrivePolicy"]))
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
    return attributes


def _create_queue(name: str, attributes: dict[str, str], report: BootstrapReport) -> str:
    sqs = aws.client("sqs")
    try:
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        report.note(False, f"queue {name}")
        return url
    except ClientError as exc:
        if "NonExistentQueue" not in str(exc) and "QueueDoesNotExist" not in str(exc):
            raise
    url = str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    report.note(True, f"queue {name}")
    return url


def _queue_arn(url: str) -> str:
    return str(
        aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )


def _queues(stack: Stack, report: BootstrapReport) -> None:
    queues = stack.of_type("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy must point at a queue that exists.
    ordered = sorted(queues, key=lambda lid: "RedrivePolicy" in (queues[lid].get("Properties") or {}))
    for logical_id in ordered:
        props = queues[logical_id].get("Properties") or {}
        _create_queue(stack.physical_name(logical_id), _queue_attributes(stack, props), report)


def _queue_policies(stack: Stack, report: BootstrapReport) -> None:
    for logical_id, resource in stack.of_type("AWS::SQS::QueuePolicy").items():
        props = stack.resolve(resource["Properties"])
        for url in props["Queues"]:
            aws.client("sqs").set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
        report.note(True, f"queue policy {logical_id}")


def _topics(stack: Stack, report: BootstrapReport) -> None:
    """SNS topics, then their SQS subscriptions (the queues exist by now). CreateTopic is idempotent; a
    subscription that already exists (same topic, protocol and endpoint) gets the template's attributes."""
    sns = aws.client("sns")
    for logical_id in stack.of_type("AWS::SNS::Topic"):
        props = stack.resolve(stack.resources[logical_id].get("Properties") or {})
        if props.get("Subscription"):
            raise TemplateError(f"{logical_id}: declare subscriptions as AWS::SNS::Subscription resources")
        name = stack.physical_name(logical_id)
        existed = any(t["TopicArn"] == stack.arn(logical_id) for t in _all_topics(sns))
        sns.create_topic(Name=name)
        report.note(not existed, f"topic {name}")
    for logical_id, resource in stack.of_type("AWS::SNS::Subscription").items():
        props = stack.resolve(resource.get("Properties") or {})
        if props.get("Protocol") != "sqs":
            raise TemplateError(f"{logical_id}: only sqs subscriptions are supported locally")
        topic, endpoint = str(props["TopicArn"]), str(props["Endpoint"])
        attributes = {"RawMessageDelivery": "true" if props.get("RawMessageDelivery") else "false"}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        found = [s for p in pages for s in p["Subscriptions"] if s["Protocol"] == "sqs" and s["Endpoint"] == endpoint]
        if found:
            for name, value in attributes.items():
                sns.set_subscription_attributes(
                    SubscriptionArn=found[0]["SubscriptionArn"], AttributeName=name, AttributeValue=value
                )
            report.note(False, f"subscription {logical_id}")
            continue
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=endpoint, Attributes=attributes)
        report.note(True, f"subscription {logical_id}")


def _all_topics(sns: Any) -> list[dict[str, str]]:
    return [t for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]


def _tables(stack: Stack, report: BootstrapReport) -> None:
    ddb = aws.client("dynamodb")
    for logical_id, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = stack.resolve(resource.get("Properties") or {})
        name = stack.physical_name(logical_id)
        try:
            ddb.describe_table(TableName=name)
            report.note(False, f"table {name}")
            continue
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if index_kind in props:
                request[index_kind] = props[index_kind]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb.create_table(**request)
        ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        report.note(True, f"table {name}")


def _notification_filter(spec: dict[str, Any]) -> dict[str, Any]:
    rules = ((spec.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return {}
    return {"Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape (the subset the template uses)."""
    known = {
        "Id",
        "Status",
        "Prefix",
        "ExpirationInDays",
        "NoncurrentVersionExpiration",
        "AbortIncompleteMultipartUpload",
    }
    unknown = set(rule) - known
    if unknown:
        raise TemplateError(f"lifecycle rule {rule.get('Id')}: {', '.join(sorted(unknown))} not supported locally")
    converted: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return converted


def _buckets(stack: Stack, report: BootstrapReport) -> None:
    s3 = aws.client("s3")
    notifications: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in stack.of_type("AWS::S3::Bucket").items():
        props = resource.get("Properties") or {}
        name = stack.physical_name(logical_id)
        try:
            s3.head_bucket(Bucket=name)
            report.note(False, f"bucket {name}")
        except ClientError:
            region = stack.env.region
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=name, **location)
            report.note(True, f"bucket {name}")
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        lifecycle = stack.resolve(props.get("LifecycleConfiguration") or {})
        if lifecycle.get("Rules"):
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]}
            )
        configured = stack.resolve((props.get("NotificationConfiguration") or {}).get("QueueConfigurations") or [])
        notifications[name] = [
            {"QueueArn": spec["Queue"], "Events": [spec["Event"]], **_notification_filter(spec)} for spec in configured
        ]
    # S3 events declared on functions: on AWS, SAM wires the bucket to the function. Locally the bucket
    # notifies a delivery queue that the runner polls and hands to the function as an S3 event.
    for fn in stack.functions():
        for event in fn.events:
            if event.type != "S3":
                continue
            bucket_id = event.properties["Bucket"]["Ref"]
            queue = s3_delivery_queue(stack, fn, event)
            # Lambda retries a failed asynchronous S3 invocation twice; the delivery queue does the same,
            # then parks the event in a DLQ instead of looping on it.
            dead = _queue_arn(_create_queue(f"{queue}-dlq", {"MessageRetentionPeriod": "1209600"}, report))
            url = _create_queue(
                queue,
                {
                    "VisibilityTimeout": str(fn.timeout * 6),
                    "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead, "maxReceiveCount": 3}),
                },
                report,
            )
            events = event.properties["Events"]
            for event_name in events if isinstance(events, list) else [events]:
                notifications[stack.physical_name(bucket_id)].append(
                    {"QueueArn": _queue_arn(url), "Events": [event_name], **_notification_filter(event.properties)}
                )
    for bucket, queue_configs in notifications.items():
        if queue_configs:
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queue_configs}
            )


def put_admin_key(stack: Stack, key: str) -> str:
    name = admin_key_parameter(stack)
    aws.client("ssm").put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)
    return name


def put_ingest_key(stack: Stack, key: str) -> str:
    name = ingest_key_parameter(stack)
    aws.client("ssm").put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)
    return name


def put_pseudonym_key(stack: Stack, report: BootstrapReport) -> None:
    """The risk graph's pseudonym key (model_build.risk.pseudonym_key) in the stack's SSM parameter, when the
    template declares one; written only when it is missing or differs from the local key, so that a second
    bootstrap creates nothing."""
    from model_build.risk.pseudonym_key import local_pseudonym_key

    if PSEUDONYM_KEY_TEMPLATE_PARAMETER not in stack.parameters:
        return
    name = "/" + stack.parameters[PSEUDONYM_KEY_TEMPLATE_PARAMETER].lstrip("/")
    key, ssm = local_pseudonym_key(), aws.client("ssm")
    try:
        stored = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        stored = None
    if stored != key:
        ssm.put_parameter(Name=name, Value=key, Type="SecureString", Overwrite=True)
    report.note(stored != key, f"ssm parameter {name}")


def caller_key_parameters(stack: Stack) -> dict[str, str]:
    """Caller kind -> the SSM parameter of its key, as the template's authorizer declares them (CALLER_KEYS)."""
    from commerce_ai.access import AccessRules
    from infra.runner.http_gateway import AUTHORIZER

    authorizers = [fn for fn in stack.functions() if fn.logical_id == AUTHORIZER]
    if not authorizers:  # a template without an HTTP API (the runner's test templates) has no caller keys
        return {}
    return AccessRules.parse(authorizers[0].environment).key_parameters


def put_caller_keys(stack: Stack, keys: dict[str, str]) -> list[str]:
    """Stores each caller kind's key (SecureString) where the authorizer reads it; the names written."""
    parameters = caller_key_parameters(stack)
    unknown = sorted(set(keys) - set(parameters))
    if unknown:
        raise TemplateError(f"no caller kind {', '.join(unknown)} in the template's CALLER_KEYS")
    ssm = aws.client("ssm")
    for kind, key in sorted(keys.items()):
        ssm.put_parameter(Name=parameters[kind], Value=key, Type="SecureString", Overwrite=True)
    return [parameters[kind] for kind in sorted(keys)]


def bootstrap(
    stack: Stack,
    admin_key: str | None = None,
    ingest_key: str | None = None,
    caller_keys: dict[str, str] | None = None,
) -> BootstrapReport:
    """Creates the template's resources and stores the keys: the admin and ingest (`events`) keys, and any
    other caller kind's (`caller_keys`, kind -> key; README "Callers and scopes")."""
    report = BootstrapReport()
    _queues(stack, report)
    _topics(stack, report)
    _queue_policies(stack, report)
    _tables(stack, report)
    _buckets(stack, report)
    if admin_key is not None:
        report.note(True, f"ssm parameter {put_admin_key(stack, admin_key)}")
    if ingest_key is not None:
        report.note(True, f"ssm parameter {put_ingest_key(stack, ingest_key)}")
    for name in put_caller_keys(stack, caller_keys or {}):
        report.note(True, f"ssm parameter {name}")
    put_pseudonym_key(stack, report)
    return report

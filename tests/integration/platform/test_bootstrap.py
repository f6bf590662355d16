"""Bootstrap creates exactly what template.yaml declares, with its settings, and is idempotent."""

from __future__ import annotations

import json

from commerce_ai import aws
from infra.bootstrap import admin_key_parameter, bootstrap
from infra.template import Stack
from tests.conftest import ADMIN_KEY


def test_every_declared_resource_exists(stack: Stack) -> None:
    sqs, ddb, s3 = aws.client("sqs"), aws.client("dynamodb"), aws.client("s3")
    for logical_id in stack.of_type("AWS::SQS::Queue"):
        sqs.get_queue_url(QueueName=stack.physical_name(logical_id))
    tables = set(ddb.list_tables()["TableNames"])
    assert {stack.physical_name(t) for t in stack.of_type("AWS::DynamoDB::Table")} <= tables
    for logical_id in stack.of_type("AWS::S3::Bucket"):
        s3.head_bucket(Bucket=stack.physical_name(logical_id))


def test_queue_redrives_to_its_dlq_with_the_template_count(stack: Stack) -> None:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("ArtifactEventsQueue"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    declared = stack.resources["ArtifactEventsQueue"]["Properties"]
    assert redrive["deadLetterTargetArn"] == stack.arn("ArtifactEventsDLQ")
    assert int(redrive["maxReceiveCount"]) == declared["RedrivePolicy"]["maxReceiveCount"]
    assert int(attributes["VisibilityTimeout"]) == declared["VisibilityTimeout"]


def test_bucket_notifies_the_artifact_queue_of_new_manifests(stack: Stack) -> None:
    config = aws.client("s3").get_bucket_notification_configuration(Bucket=stack.physical_name("ArtifactBucket"))
    (queue_config,) = config["QueueConfigurations"]
    assert queue_config["QueueArn"] == stack.arn("ArtifactEventsQueue")
    rules = {r["Name"].lower(): r["Value"] for r in queue_config["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "models/", "suffix": "manifest.json"}


def test_admin_key_is_a_secure_string(stack: Stack) -> None:
    parameter = aws.client("ssm").get_parameter(Name=admin_key_parameter(stack), WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"] == ADMIN_KEY


def test_second_bootstrap_creates_nothing(stack: Stack) -> None:
    report = bootstrap(stack)
    assert not [c for c in report.created if not c.startswith("queue policy")]
    assert report.existing

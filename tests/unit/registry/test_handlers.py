"""The non-HTTP registry handlers, invoked as Lambda would (event, context), over in-memory AWS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from commerce_ai.artifacts.registry import CANDIDATE, QUARANTINED, ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import clear_cached_settings
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import failed_ids, sqs_event
from infra.template import Stack
from model_build import publish
from tests.support.events import sample, sample_body
from tests.support.models import built_linear
from tests.unit.fakes import FakeAws, sqs_message

BUCKET = "artifacts"
TABLE = "registry-table"
NAME = "demo-scorer"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, tmp_path: Path) -> FakeAws:
    monkeypatch.setenv("ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("MODEL_REGISTRY_TABLE", TABLE)
    clear_cached_settings()
    store = ArtifactStore(BUCKET, s3=fake_aws.s3)
    publish(store, built_linear(tmp_path / "good"), "v1")
    publish(store, built_linear(tmp_path / "bad"), "v2")
    fake_aws.s3.objects[(BUCKET, f"models/{NAME}/v2/model.onnx")] = b"tampered"
    return fake_aws


def handler(logical_id: str) -> Any:
    fn = Stack().function(logical_id)
    return load_handler(fn.code_uri, fn.module, fn.attribute), LambdaContext(fn.physical_name)


def s3_body(key: str, bucket: str = BUCKET) -> str:
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    )


def test_artifact_events_fail_only_the_poison_record(configured: FakeAws) -> None:
    # Given a batch with a good manifest, a corrupt version, a non-S3 message and an S3 test event,
    messages = [
        sqs_message("good", s3_body(f"models/{NAME}/v1/manifest.json")),
        sqs_message("corrupt", s3_body(f"models/{NAME}/v2/manifest.json")),
        sqs_message("poison", "this is not an S3 notification"),
        sqs_message("test-event", json.dumps({"Event": "s3:TestEvent"})),
        sqs_message("elsewhere", s3_body(f"models/{NAME}/v9/manifest.json", bucket="other-bucket")),
    ]
    fn, context = handler("ArtifactEventsFunction")
    # when the function handles it,
    result = fn(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), context)
    # then only the poison message is reported failed (it retries, then reaches the DLQ),
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert failed_ids(result, {m["MessageId"] for m in messages}) == {"poison"}
    # and both versions got their verdict: a corrupt artifact is an outcome, not a failure.
    registry = ModelRegistry(TABLE, dynamodb=configured.dynamodb)
    assert registry.get_version(NAME, "v1").state == CANDIDATE
    assert registry.get_version(NAME, "v2").state == QUARANTINED


def test_a_manifest_that_arrives_before_its_files_is_retried_then_registered(
    configured: FakeAws, tmp_path: Path
) -> None:
    # Given v3's manifest in the bucket before its model file,
    store = ArtifactStore(BUCKET, s3=configured.s3)
    publish(store, built_linear(tmp_path / "v3"), "v3")
    model = configured.s3.objects.pop((BUCKET, f"models/{NAME}/v3/model.onnx"))
    fn, context = handler("ArtifactEventsFunction")
    first = sqs_message("m1", s3_body(f"models/{NAME}/v3/manifest.json"))
    # when its notification is delivered the first time,
    result = fn(sqs_event([first], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), context)
    # then the record fails, so SQS delivers it again, and nothing is recorded yet;
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    registry = ModelRegistry(TABLE, dynamodb=configured.dynamodb)
    assert registry.versions(NAME) == []
    # when the file has arrived by the next delivery, the version is registered.
    configured.s3.objects[(BUCKET, f"models/{NAME}/v3/model.onnx")] = model
    again = {**first, "Attributes": {"ApproximateReceiveCount": "2"}}
    result = fn(sqs_event([again], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), context)
    assert result == {"batchItemFailures": []}
    assert registry.get_version(NAME, "v3").state == CANDIDATE


def test_a_manifest_whose_files_never_arrive_is_quarantined_on_its_last_delivery(configured: FakeAws) -> None:
    configured.s3.objects.pop((BUCKET, f"models/{NAME}/v1/model.onnx"))
    fn, context = handler("ArtifactEventsFunction")
    last = {
        **sqs_message("m1", s3_body(f"models/{NAME}/v1/manifest.json")),
        "Attributes": {"ApproximateReceiveCount": "3"},
    }
    result = fn(sqs_event([last], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"), context)
    assert result == {"batchItemFailures": []}  # a verdict, not a trip to the DLQ
    registry = ModelRegistry(TABLE, dynamodb=configured.dynamodb)
    assert registry.get_version(NAME, "v1").state == QUARANTINED
    assert "cannot fetch model.onnx: missing" in (registry.get_version(NAME, "v1").reason or "")


def test_the_sample_sqs_event_is_handled(configured: FakeAws) -> None:
    event = sample("registry/ArtifactEventsFunction-ManifestCreated.json")
    fn, context = handler("ArtifactEventsFunction")
    result = fn(event, context)
    assert result == {"batchItemFailures": []}  # its bucket is not ours: ignored, not failed


def test_reconcile_registers_what_the_registry_missed(configured: FakeAws) -> None:
    fn, context = handler("ArtifactReconcileFunction")
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r")
    assert fn(event, context) == {"checked": 2, "outcomes": {"registered": 1, "quarantined": 1}}
    assert fn(event, context) == {"checked": 0, "outcomes": {}}


def test_the_sample_schedule_event_is_handled(configured: FakeAws) -> None:
    event = sample("registry/ArtifactReconcileFunction-Hourly.json")
    fn, context = handler("ArtifactReconcileFunction")
    assert fn(event, context)["checked"] == 2


def test_an_unconfigured_function_fails_loudly(fake_aws: FakeAws) -> None:
    from commerce_ai.config import ConfigError

    fn, context = handler("ArtifactReconcileFunction")
    with pytest.raises(ConfigError, match="ARTIFACT_BUCKET"):
        fn(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)


def test_the_repricing_function_refuses_an_event_that_is_not_a_schedule_event(fake_aws: FakeAws) -> None:
    """A reprice request's body sent straight to the function must not run a whole-catalog tick "now"."""
    fn, context = handler("RepricingFunction")
    with pytest.raises(ValueError, match="not a schedule event"):
        fn(sample_body("pricing/RepricingFunction-RepriceRequested.json"), context)

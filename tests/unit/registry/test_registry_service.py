"""commerce_ai.registry.service: S3 notifications in, verdicts out; with the real store and registry
adapters over in-memory S3 and DynamoDB, and a real (tiny) ONNX model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.artifacts import validation
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.artifacts.registry import CANDIDATE, QUARANTINED, ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import ValidationResult
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.registry import service
from commerce_ai.s3_notifications import ObjectCreated, parse_s3_notification
from model_build import publish
from tests.support.models import built_linear
from tests.unit.fakes import FakeDynamoDB, FakeS3, client_error

BUCKET = "artifacts"
TABLE = "registry-table"
NAME = "demo-scorer"


def notification(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def s3_record(key: str, bucket: str = BUCKET, event: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {"eventName": event, "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}}


# ------------------------------------------------------------------------------ parse_s3_notification


def test_object_created_records_are_announced() -> None:
    body = notification(s3_record("models/a/v1/manifest.json"), s3_record("models/b/v2/manifest.json", "other"))
    assert parse_s3_notification(body) == [
        ObjectCreated(BUCKET, "models/a/v1/manifest.json"),
        ObjectCreated("other", "models/b/v2/manifest.json"),
    ]


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("models/demo/v1%2B2/manifest.json", "models/demo/v1+2/manifest.json"),
        ("models/demo/v+1/manifest.json", "models/demo/v 1/manifest.json"),
        ("models%2Fdemo%2Fv1%2Fmanifest.json", "models/demo/v1/manifest.json"),
        ("models/d%C3%A9mo/v1/manifest.json", "models/démo/v1/manifest.json"),
    ],
)
def test_keys_are_url_decoded_as_s3_encodes_them(encoded: str, key: str) -> None:
    assert parse_s3_notification(notification(s3_record(encoded))) == [ObjectCreated(BUCKET, key)]


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40))
def test_any_key_survives_s3s_form_encoding(key: str) -> None:
    assert parse_s3_notification(notification(s3_record(quote_plus(key)))) == [ObjectCreated(BUCKET, key)]


def test_the_s3_test_event_announces_nothing() -> None:
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    assert parse_s3_notification(body) == []


@pytest.mark.parametrize("event", ["ObjectRemoved:Delete", "ObjectRestore:Completed", "LifecycleExpiration:Delete"])
def test_other_event_types_are_ignored(event: str) -> None:
    body = notification(s3_record("models/a/v1/manifest.json", event=event), s3_record("models/a/v2/manifest.json"))
    assert parse_s3_notification(body) == [ObjectCreated(BUCKET, "models/a/v2/manifest.json")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ("", "not JSON"),
        ("[1, 2]", "not an S3 event notification object"),
        ('"text"', "not an S3 event notification object"),
        ("null", "not an S3 event notification object"),
        ("{}", "no Records"),
        ('{"Records": []}', "no Records"),
        ('{"Records": {"eventName": "ObjectCreated:Put"}}', "no Records"),
        ('{"Records": ["x"]}', "S3 record is missing"),
        ('{"Records": [{"eventName": "ObjectCreated:Put"}]}', "S3 record is missing 's3'"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}}}]}', "missing 'object'"),
        ('{"Records": [{"s3": {}}]}', "missing 'eventName'"),
        ('{"Records": [{"eventName": "ObjectCreated:Put", "s3": []}]}', "S3 record is missing"),
    ],
)
def test_anything_else_is_invalid_input(body: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_s3_notification(body)
    assert caught.value.status_code == 400


@pytest.mark.parametrize("bad_key", [5, None, ["k"], {"k": 1}])
def test_a_non_string_key_is_invalid_input(bad_key: Any) -> None:
    record = {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": bad_key}}}
    with pytest.raises(InvalidInput):
        parse_s3_notification(notification(record))


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=10,
    )
)
def test_any_json_is_either_parsed_or_invalid_input(payload: Any) -> None:
    try:
        result = parse_s3_notification(json.dumps(payload))
    except InvalidInput:
        return
    assert all(isinstance(o, ObjectCreated) for o in result)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def ddb() -> FakeDynamoDB:
    return FakeDynamoDB()


@pytest.fixture
def store(s3: FakeS3) -> ArtifactStore:
    return ArtifactStore(BUCKET, s3=s3)


@pytest.fixture
def registry(ddb: FakeDynamoDB) -> ModelRegistry:
    return ModelRegistry(TABLE, dynamodb=ddb)


@pytest.fixture
def build(tmp_path: Path, store: ArtifactStore) -> Any:
    """publish(version, **built_linear kwargs) -> Manifest, through model_build.publish."""
    counter = iter(range(100))

    def make(version: str, **kwargs: Any) -> Manifest:
        built = built_linear(tmp_path / f"build-{next(counter)}", **kwargs)
        return publish(store, built, version)

    return make


def key(version: str, file: str = "manifest.json", name: str = NAME) -> tuple[str, str]:
    return (BUCKET, f"models/{name}/{version}/{file}")


# ------------------------------------------------------------------------------ validate_version


def test_a_sound_version_is_registered_as_candidate(
    build: Any, store: ArtifactStore, registry: ModelRegistry, tmp_path: Path
) -> None:
    manifest = build("v1")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = validation.validate_version(store, registry, NAME, "v1", scratch=scratch)
    assert result == ValidationResult(NAME, "v1", "registered")
    record = registry.get_version(NAME, "v1")
    assert record.state == CANDIDATE
    assert record.manifest_sha256 == validation.manifest_digest(manifest)
    assert record.summary["feature_names"] == ["price", "units_7d", "margin"]
    assert list(scratch.iterdir()) == []  # the downloaded copy is cleaned up


def test_a_model_is_validated_with_its_capabilitys_own_opener(
    build: Any, store: ArtifactStore, registry: ModelRegistry
) -> None:
    # A risk model whose ONNX file opens but which lacks the policy file scoring needs is not sound
    from commerce_ai.risk.model import MODEL_NAME

    build("v1", name=MODEL_NAME)
    result = validation.validate_version(store, registry, MODEL_NAME, "v1")
    assert result.outcome == "quarantined"
    assert "does not open as it is served: FileNotFoundError" in (result.reason or "")


def test_an_oversized_version_is_quarantined_before_anything_is_fetched(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    from commerce_ai.artifacts.manifest import MAX_FILE_BYTES

    manifest = build("v1")
    claimed = manifest.model_dump(mode="json")
    claimed["files"]["model.onnx"]["bytes"] = MAX_FILE_BYTES + 1
    s3.objects[key("v1")] = json.dumps(claimed).encode()
    result = validation.validate_version(store, registry, NAME, "v1")
    assert result.outcome == "quarantined" and "less than or equal to" in (result.reason or "")


def test_validating_again_is_unchanged(build: Any, store: ArtifactStore, registry: ModelRegistry) -> None:
    build("v1")
    validation.validate_version(store, registry, NAME, "v1")
    assert validation.validate_version(store, registry, NAME, "v1").outcome == "unchanged"
    assert registry.get_version(NAME, "v1").state == CANDIDATE


def test_a_corrupt_file_is_quarantined(build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3) -> None:
    build("v1")
    s3.objects[key("v1", "model.onnx")] += b"tampered"
    result = validation.validate_version(store, registry, NAME, "v1")
    assert result.outcome == "quarantined"
    assert "checksum mismatch for model.onnx" in (result.reason or "")
    record = registry.get_version(NAME, "v1")
    assert record.state == QUARANTINED and record.reason == result.reason


def test_a_missing_file_is_quarantined(build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3) -> None:
    build("v1")
    del s3.objects[key("v1", "model.onnx")]
    result = validation.validate_version(store, registry, NAME, "v1")
    assert result.outcome == "quarantined" and "cannot fetch model.onnx" in (result.reason or "")


@pytest.mark.parametrize(
    ("body", "reason"),
    [(None, "no manifest at"), (b"{not json", "is invalid"), (b'{"name": "demo-scorer"}', "is invalid")],
)
def test_an_unreadable_manifest_is_quarantined_without_a_digest(
    store: ArtifactStore, registry: ModelRegistry, s3: FakeS3, body: bytes | None, reason: str
) -> None:
    if body is not None:
        s3.objects[key("v1")] = body
    result = validation.validate_version(store, registry, NAME, "v1")
    assert result.outcome == "quarantined" and reason in (result.reason or "")
    assert registry.get_version(NAME, "v1").manifest_sha256 == "-"


def test_a_manifest_naming_another_version_is_quarantined(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    build("v1")
    s3.objects[key("v2")] = s3.objects[key("v1")]
    result = validation.validate_version(store, registry, NAME, "v2")
    assert result.outcome == "quarantined" and "names demo-scorer/v1, not demo-scorer/v2" in (result.reason or "")


def test_a_manifest_that_does_not_describe_the_model_is_quarantined(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    manifest = build("v1")
    data = manifest.model_dump(mode="json")
    data["output_schema"][0]["name"] = "probability"
    s3.objects[key("v1")] = json.dumps(data).encode()
    result = validation.validate_version(store, registry, NAME, "v1")
    assert result.outcome == "quarantined" and "output names" in (result.reason or "")


def test_a_model_file_that_is_not_onnx_is_quarantined(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    import hashlib

    manifest = build("v1")
    garbage = b"definitely not onnx"
    data = manifest.model_dump(mode="json")
    data["files"]["model.onnx"] = {"sha256": hashlib.sha256(garbage).hexdigest(), "bytes": len(garbage)}
    s3.objects[key("v1", "model.onnx")] = garbage
    s3.objects[key("v1")] = json.dumps(data).encode()
    assert validation.validate_version(store, registry, NAME, "v1").outcome == "quarantined"


def test_transient_aws_errors_propagate_so_the_event_is_retried(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3, ddb: FakeDynamoDB
) -> None:
    build("v1")
    s3.fail_with = client_error("InternalError", "GetObject")
    with pytest.raises(Exception, match="InternalError"):
        validation.validate_version(store, registry, NAME, "v1")
    assert ddb.puts == []  # no verdict recorded on a blip


@pytest.mark.parametrize("code", ["SlowDown", "InternalError", "RequestTimeout"])
def test_a_transient_error_while_downloading_does_not_quarantine(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3, ddb: FakeDynamoDB, code: str
) -> None:
    build("v1")
    s3.fail_on["DownloadFile"] = client_error(code, "GetObject")
    with pytest.raises(Exception, match=code):
        validation.validate_version(store, registry, NAME, "v1")
    assert ddb.puts == []


def test_a_changed_manifest_for_a_registered_version_is_quarantined(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    manifest = build("v1")
    validation.validate_version(store, registry, NAME, "v1")
    data = manifest.model_dump(mode="json")
    data["metrics"] = {"weight_sum": 999.0}
    s3.objects[key("v1")] = json.dumps(data).encode()
    assert validation.validate_version(store, registry, NAME, "v1").outcome == "unchanged"
    record = registry.get_version(NAME, "v1")
    assert record.state == QUARANTINED and record.reason == "manifest changed after registration"


# ------------------------------------------------------------------------------ handle_object_created


class RecordingRegistry:
    """Fails the test if the registry is touched at all."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"registry.{name} must not be called")


@pytest.mark.parametrize(
    "created",
    [
        ObjectCreated(BUCKET, "models/demo-scorer/v1/model.onnx"),
        ObjectCreated(BUCKET, "models/demo-scorer/manifest.json"),
        ObjectCreated(BUCKET, "uploads/manifest.json"),
        ObjectCreated("someone-elses-bucket", "models/demo-scorer/v1/manifest.json"),
    ],
)
def test_non_manifest_keys_and_other_buckets_are_ignored(store: ArtifactStore, created: ObjectCreated) -> None:
    assert service.handle_object_created(store, RecordingRegistry(), created) is None  # type: ignore[arg-type]


def test_a_manifest_in_our_bucket_is_validated(build: Any, store: ArtifactStore, registry: ModelRegistry) -> None:
    build("v1")
    result = service.handle_object_created(
        store, registry, ObjectCreated(BUCKET, "models/demo-scorer/v1/manifest.json")
    )
    assert result == ValidationResult(NAME, "v1", "registered")


def test_a_manifest_before_its_files_waits_and_records_nothing(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    # Given a manifest whose model file has not been uploaded yet,
    build("v1")
    model = s3.objects.pop(key("v1", "model.onnx"))
    # when it is validated while files may still come,
    result = validation.validate_version(store, registry, NAME, "v1", wait_for_files=True)
    # then it waits, with no verdict recorded,
    assert result.outcome == "waiting" and "cannot fetch model.onnx" in (result.reason or "")
    with pytest.raises(NotFound):
        registry.get_version(NAME, "v1")
    # and once the file is there, the same validation registers it.
    s3.objects[key("v1", "model.onnx")] = model
    assert validation.validate_version(store, registry, NAME, "v1", wait_for_files=True).outcome == "registered"


def test_a_file_that_is_there_but_wrong_is_quarantined_even_while_waiting_for_files(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    build("v1")
    s3.objects[key("v1", "model.onnx")] += b"tampered"
    assert validation.validate_version(store, registry, NAME, "v1", wait_for_files=True).outcome == "quarantined"


@pytest.mark.parametrize("attempt", range(1, service.MANIFEST_EVENT_ATTEMPTS))
def test_an_event_for_a_manifest_before_its_files_is_retried(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3, attempt: int
) -> None:
    build("v1")
    del s3.objects[key("v1", "model.onnx")]
    created = ObjectCreated(BUCKET, "models/demo-scorer/v1/manifest.json")
    with pytest.raises(service.FilesNotThereYet, match=f"demo-scorer/v1 \\(delivery {attempt}\\)"):
        service.handle_object_created(store, registry, created, attempt)
    assert registry.versions(NAME) == []


def test_the_last_delivery_of_a_manifest_still_without_its_files_quarantines_it(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    build("v1")
    del s3.objects[key("v1", "model.onnx")]
    created = ObjectCreated(BUCKET, "models/demo-scorer/v1/manifest.json")
    result = service.handle_object_created(store, registry, created, service.MANIFEST_EVENT_ATTEMPTS)
    assert result is not None and result.outcome == "quarantined"
    assert registry.get_version(NAME, "v1").state == QUARANTINED


def test_manifest_event_attempts_are_the_queues_receive_count() -> None:
    from infra.template import Stack

    queue = Stack().resources["ArtifactEventsQueue"]["Properties"]
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) == service.MANIFEST_EVENT_ATTEMPTS


# ------------------------------------------------------------------------------ reconcile, list, describe


def test_reconcile_validates_only_versions_the_registry_has_not_seen(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    for version in ("v1", "v2", "v3", "v4"):
        build(version)
    validation.validate_version(store, registry, NAME, "v2")
    s3.objects[key("v4", "model.onnx")] = b"tampered"
    results = service.reconcile(store, registry)
    assert sorted((r.version, r.outcome) for r in results) == [
        ("v1", "registered"),
        ("v3", "registered"),
        ("v4", "quarantined"),
    ]
    assert service.reconcile(store, registry) == []  # converged


def test_list_models_summarises_each_model(
    build: Any, store: ArtifactStore, registry: ModelRegistry, s3: FakeS3
) -> None:
    build("v1", weights=[1.0, 1.0, 1.0])
    build("v2", weights=[2.0, 2.0, 2.0])
    s3.objects[key("v3")] = b"broken"
    for version in ("v1", "v2", "v3"):
        validation.validate_version(store, registry, NAME, version)
    registry.activate(NAME, "v2")
    assert service.list_models(registry) == [
        {
            "name": NAME,
            "active_version": "v2",
            "metrics": {"weight_sum": 6.0},
            "versions": 3,
            "candidates": 1,
            "quarantined": 1,
        },
    ]


def test_describe_model_lists_versions_newest_first_with_the_active_schema(
    build: Any, store: ArtifactStore, registry: ModelRegistry
) -> None:
    build("v1")
    build("v2")
    for version in ("v1", "v2"):
        validation.validate_version(store, registry, NAME, version)
    registry.activate(NAME, "v1")
    registry.activate(NAME, "v2")
    described = service.describe_model(registry, store, NAME)
    assert (described["active_version"], described["rollback_to"]) == ("v2", "v1")
    assert [(v["version"], v["state"]) for v in described["versions"]] == [("v2", "active"), ("v1", "candidate")]
    assert described["active_schema"]["input"]["feature_names"] == ["price", "units_7d", "margin"]
    assert described["active_schema"]["output"][0]["name"] == "score"


def test_describe_an_unknown_model_is_not_found(store: ArtifactStore, registry: ModelRegistry) -> None:
    with pytest.raises(NotFound):
        service.describe_model(registry, store, "nope")

"""The registry HTTP API (functions/registry/app.py, and admin.py for activation and rollback) through
Chalice's test client, over in-memory AWS.

Clients always get JSON errors with Code and Message; admin routes need the key; no bad input is a 500.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai import health, http
from commerce_ai.artifacts import validation
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.template import Stack
from model_build import publish
from tests.support.events import sample as sample_event
from tests.support.models import built_linear
from tests.unit.fakes import FakeAws, FakeDynamoDB, FakeSSMProvider, client_error

ADMIN_KEY = "unit-admin-key-0123456789"
KEY_PARAMETER = "/commerce-ai/admin-api-key"
BUCKET = "artifacts"
NAME = "demo-scorer"
# the version events/registry/RegistryAdminFunction-ActivateModel.json names
SAMPLE_VERSION = "20261127T100000Z-abc12345"
JSON = {"Content-Type": "application/json"}
ADMIN = {**JSON, "x-api-key": ADMIN_KEY}


def _registry_module(function: str = "RegistryApiFunction") -> Any:
    fn = Stack().function(function)
    module_name = load_handler(fn.code_uri, fn.module, "__name__")  # the unique name it was imported as
    return sys.modules[module_name]


class _ByMethod:
    """What API Gateway does with the registry's two functions: reads go to RegistryApiFunction, activation
    and rollback (POST) to RegistryAdminFunction."""

    def __init__(self, reads: Any, writes: Any) -> None:
        self.get, self.post = reads.http.get, writes.http.post
        self.put, self.delete = reads.http.put, reads.http.delete  # no such routes: what a 405 looks like


def _by_method(reads: Any, writes: Any) -> Any:
    return lambda event, context: (writes if event["httpMethod"] == "POST" else reads)(event, context)


@dataclass
class Api:
    client: Any
    app: Any
    registry: ModelRegistry
    registry_ddb: FakeDynamoDB
    aws: FakeAws
    ssm: FakeSSMProvider

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        raw = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        return getattr(self.client.http, method.lower())(path, headers=headers or {}, body=raw)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], bytes]:
    """S3 objects for demo-scorer v1, v2, SAMPLE_VERSION (sound) and v3 (tampered): built once per module."""
    from tests.unit.fakes import FakeS3

    s3 = FakeS3()
    store = ArtifactStore(BUCKET, s3=s3)
    root = tmp_path_factory.mktemp("builds")
    for i, version in enumerate(("v1", "v2", "v3", SAMPLE_VERSION)):
        publish(store, built_linear(root / version, weights=[float(i + 1)] * 3), version)
    s3.objects[(BUCKET, f"models/{NAME}/v3/model.onnx")] += b"tampered"
    return dict(s3.objects)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, seeded: dict[tuple[str, str], bytes]) -> Iterator[Api]:
    # Given the artifact bucket holding four versions, validated into an in-memory registry,
    fake_aws.s3.objects.update(seeded)
    registry_ddb = FakeDynamoDB()
    registry = ModelRegistry("registry-table", dynamodb=registry_ddb)
    store = ArtifactStore(BUCKET, s3=fake_aws.s3)
    for version in ("v1", "v2", "v3", SAMPLE_VERSION):
        validation.validate_version(store, registry, NAME, version)
    # and the app configured as the template configures it, with the key in (fake) SSM.
    module, admin = _registry_module(), _registry_module("RegistryAdminFunction")
    monkeypatch.setattr(module, "_registry", lambda: registry)
    monkeypatch.setattr(admin, "_registry", lambda: registry)
    monkeypatch.setenv("ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("HEALTH_TABLE", "health-table")
    monkeypatch.setenv("ADMIN_API_KEY_PARAMETER", KEY_PARAMETER)
    ssm = FakeSSMProvider({KEY_PARAMETER: ADMIN_KEY})
    monkeypatch.setattr(http, "_ssm_provider", ssm)
    settings.cache_clear()
    with Client(module.app) as reads, Client(admin.app) as writes:
        client = SimpleNamespace(http=_ByMethod(reads, writes))
        yield Api(client, _by_method(module.app, admin.app), registry, registry_ddb, fake_aws, ssm)


def assert_json_error(response: Any, status: int, code: str, content_type: bool = True) -> dict[str, Any]:
    assert response.status_code == status, response.body
    if content_type:  # Chalice's own 500 sets none; API Gateway then answers application/json
        assert response.headers.get("Content-Type") == "application/json"
    body: dict[str, Any] = json.loads(response.body)
    assert body["Code"] == code
    assert isinstance(body["Message"], str) and body["Message"]
    return body


# ------------------------------------------------------------------------------------ reads


def test_list_models(api: Api) -> None:
    response = api.call("GET", "/models")
    assert response.status_code == 200
    assert json.loads(response.body) == {
        "items": [
            {"name": NAME, "active_version": None, "metrics": {}, "versions": 4, "candidates": 3, "quarantined": 1}
        ],
        "next_cursor": None,
    }


def test_list_models_pages_by_name(api: Api) -> None:
    for name in ("a-model", "b-model", "c-model"):
        api.registry.register_candidate(name, "v1", "sha", {})
    first = json.loads(api.call("GET", "/models?limit=2").body)
    assert [m["name"] for m in first["items"]] == ["a-model", "b-model"]
    second = json.loads(api.call("GET", f"/models?limit=2&cursor={first['next_cursor']}").body)
    assert [m["name"] for m in second["items"]] == ["c-model", NAME]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=two", "cursor=not-a-cursor"])
def test_list_models_refuses_a_bad_page(api: Api, query: str) -> None:
    assert_json_error(api.call("GET", f"/models?{query}"), 400, "BadRequestError")


def test_model_timestamps_are_rfc3339_utc_with_z(api: Api) -> None:
    body = json.loads(api.call("GET", f"/models/{NAME}").body)
    for version in body["versions"]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", version["registered_at"])


def test_get_model_describes_versions(api: Api) -> None:
    api.registry.activate(NAME, "v1")
    body = json.loads(api.call("GET", f"/models/{NAME}").body)
    assert body["active_version"] == "v1"
    assert body["active_schema"]["input"]["tensors"][0]["name"] == "features"
    states = {v["version"]: v["state"] for v in body["versions"]}
    assert states == {"v1": "active", "v2": "candidate", "v3": "quarantined", SAMPLE_VERSION: "candidate"}


def test_unknown_model_is_404(api: Api) -> None:
    assert_json_error(api.call("GET", "/models/no-such-model"), 404, "NotFoundError")


@pytest.mark.parametrize("name", ["Demo", "demo_scorer", "-demo", "a" * 64])
def test_an_invalid_model_name_is_400(api: Api, name: str) -> None:
    assert_json_error(api.call("GET", f"/models/{name}"), 400, "BadRequestError")


# ------------------------------------------------------------------------------------ admin auth


@pytest.mark.parametrize("route", [f"/models/{NAME}/activate", f"/models/{NAME}/rollback"])
def test_admin_routes_without_a_key_are_401(api: Api, route: str) -> None:
    assert_json_error(api.call("POST", route, {"version": "v1"}, JSON), 401, "UnauthorizedError")
    assert api.registry.pointer(NAME) is None


@pytest.mark.parametrize("key", ["wrong", ADMIN_KEY[:-1], ADMIN_KEY + "x", ADMIN_KEY.upper(), "é"])
def test_admin_routes_with_a_wrong_key_are_403(api: Api, key: str) -> None:
    response = api.call("POST", f"/models/{NAME}/activate", {"version": "v1"}, {**JSON, "x-api-key": key})
    assert_json_error(response, 403, "ForbiddenError")
    assert api.registry.pointer(NAME) is None


def test_the_key_is_read_from_the_configured_parameter_decrypted(api: Api) -> None:
    api.call("POST", f"/models/{NAME}/activate", {"version": "v1"}, ADMIN)
    assert api.ssm.calls == [(KEY_PARAMETER, True, 60)]


def test_auth_is_checked_before_the_body(api: Api) -> None:
    assert_json_error(api.call("POST", f"/models/{NAME}/activate", b"{not json", JSON), 401, "UnauthorizedError")


# ------------------------------------------------------------------------------------ activate / rollback


def test_activate_then_rollback(api: Api) -> None:
    first = api.call("POST", f"/models/{NAME}/activate", {"version": "v1"}, ADMIN)
    assert (first.status_code, json.loads(first.body)) == (
        200,
        {"name": NAME, "active_version": "v1", "rollback_to": None, "worse_than_previous": []},
    )
    second = json.loads(api.call("POST", f"/models/{NAME}/activate", {"version": "v2"}, ADMIN).body)
    assert second == {"name": NAME, "active_version": "v2", "rollback_to": "v1", "worse_than_previous": []}
    back = api.call("POST", f"/models/{NAME}/rollback", None, ADMIN)
    assert (back.status_code, json.loads(back.body)) == (
        200,
        {"name": NAME, "active_version": "v1", "rollback_to": None, "worse_than_previous": []},
    )
    assert api.registry.active_version(NAME) == "v1"


def test_a_version_worse_on_holdout_is_activated_only_with_force_and_the_answer_says_why(api: Api) -> None:
    # Given an active version and a newer one whose holdout PR-AUC is lower,
    api.registry.register_candidate("scorer", "a", "-", {"metrics": {"holdout_pr_auc": 0.8, "rows": 10.0}})
    api.registry.register_candidate("scorer", "b", "-", {"metrics": {"holdout_pr_auc": 0.7, "rows": 99.0}})
    api.registry.activate("scorer", "a")
    # activating it without force is a 409 that names the metric,
    refused = assert_json_error(
        api.call("POST", "/models/scorer/activate", {"version": "b"}, ADMIN), 409, "ConflictError"
    )
    assert "holdout_pr_auc 0.7 against 0.8" in refused["Message"] and "force" in refused["Message"]
    assert api.registry.active_version("scorer") == "a"
    # and with force it is activated, the answer still saying what it is worse at.
    forced = json.loads(api.call("POST", "/models/scorer/activate", {"version": "b", "force": True}, ADMIN).body)
    assert forced["active_version"] == "b"
    assert forced["worse_than_previous"] == [
        {"metric": "holdout_pr_auc", "candidate": 0.7, "active": 0.8, "better": "higher"}
    ]
    assert_json_error(
        api.call("POST", "/models/scorer/activate", {"version": "a", "force": "yes"}, ADMIN), 400, "BadRequestError"
    )


def test_activating_a_quarantined_version_is_409(api: Api) -> None:
    body = assert_json_error(
        api.call("POST", f"/models/{NAME}/activate", {"version": "v3"}, ADMIN), 409, "ConflictError"
    )
    assert "quarantined" in body["Message"]
    assert api.registry.pointer(NAME) is None


def test_activating_an_unknown_version_is_404(api: Api) -> None:
    assert_json_error(api.call("POST", f"/models/{NAME}/activate", {"version": "v9"}, ADMIN), 404, "NotFoundError")


def test_rollback_without_an_active_version_is_404(api: Api) -> None:
    assert_json_error(api.call("POST", f"/models/{NAME}/rollback", None, ADMIN), 404, "NotFoundError")


def test_rollback_without_history_is_409(api: Api) -> None:
    api.call("POST", f"/models/{NAME}/activate", {"version": "v1"}, ADMIN)
    assert_json_error(api.call("POST", f"/models/{NAME}/rollback", None, ADMIN), 409, "ConflictError")


# ------------------------------------------------------------------------------------ bad bodies


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "request body is required"),
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"[]", "request is invalid"),
        (b"null", "request is invalid"),
        (b'"v1"', "request is invalid"),
        (b"{}", "request is invalid"),
        (b'{"version": 1}', "request is invalid"),
        (b'{"version": null}', "request is invalid"),
        (b'{"version": ["v1"]}', "request is invalid"),
        (b'{"version": "../v1"}', "request is invalid"),
        (b'{"version": "v1", "force": "true"}', "request is invalid"),
        (b'{"version": "v1", "forced": true}', "request is invalid"),
    ],
)
def test_malformed_activate_bodies_are_400_with_a_json_error(api: Api, body: bytes, fragment: str) -> None:
    error = assert_json_error(api.call("POST", f"/models/{NAME}/activate", body, ADMIN), 400, "BadRequestError")
    assert fragment in error["Message"]
    assert api.registry.pointer(NAME) is None


def test_validation_errors_say_which_field(api: Api) -> None:
    error = assert_json_error(
        api.call("POST", f"/models/{NAME}/activate", {"version": 1, "force": 1}, ADMIN), 400, "BadRequestError"
    )
    assert sorted(d["field"] for d in error["Details"]) == ["force", "version"]
    assert all(set(d) == {"field", "problem"} for d in error["Details"])


def test_a_huge_body_is_413_before_anything_else(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "64")
    settings.cache_clear()
    body = json.dumps({"version": "v1", "padding": "x" * 100}).encode()
    error = assert_json_error(api.call("POST", f"/models/{NAME}/activate", body, JSON), 413, "PayloadTooLargeError")
    assert "64 bytes" in error["Message"]
    ok = api.call("POST", f"/models/{NAME}/activate", {"version": "v1"}, ADMIN)  # 16 bytes: fine
    assert ok.status_code == 200


routes = st.sampled_from(["/models/{}/activate", "/models/{}/rollback", "/models/{}"])
names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"), min_size=1, max_size=70
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=70),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
        max_leaves=8,
    ).map(lambda v: json.dumps(v).encode()),
    st.builds(lambda v: json.dumps({"version": v}).encode(), st.text(max_size=80)),
)


@given(route=routes, name=names, body=bodies, with_key=st.booleans())
def test_no_bad_input_is_a_500(api: Api, route: str, name: str, body: bytes, with_key: bool) -> None:
    path = route.format(name)
    method = "GET" if path.endswith(name) else "POST"
    response = api.call(method, path, body, ADMIN if with_key else JSON)
    assert response.status_code < 500, (path, body, response.body)
    if response.status_code >= 400:
        payload = json.loads(response.body)
        assert set(payload) >= {"Code", "Message"} or set(payload) == {"message"}


# ------------------------------------------------------------------------------------ health and telemetry


def test_health_reports_every_function(api: Api) -> None:
    api.call("GET", "/models")  # the first invocation writes this function's heartbeat
    body = json.loads(api.call("GET", "/health").body)
    assert body["status"] == "ok"
    assert [f["function"] for f in body["functions"]] == ["local"]
    assert body["functions"][0]["status"] == "ok"


def test_health_answers_503_while_a_startup_is_in_progress(api: Api) -> None:
    # Given `commerce-ai up` still waiting for a model and for seeding,
    health.set_startup("health-table", ["model pricing-demand", "seeding"])
    # /health says so with a 503 that a waiting script can poll,
    response = api.call("GET", "/health")
    assert response.status_code == 503 and response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "2"  # a planned answer: the function is not marked failing
    assert json.loads(response.body) == {"status": "starting", "waiting_for": ["model pricing-demand", "seeding"]}
    # and once the start-up has ended (its item gone), the usual report.
    health.set_startup("health-table", [])
    response = api.call("GET", "/health")
    assert response.status_code == 200 and json.loads(response.body)["status"] == "ok"


def test_an_unexpected_error_is_a_bare_500_and_marks_the_function_failing(api: Api) -> None:
    api.call("GET", "/models")
    api.registry_ddb.fail_with = client_error("InternalServerError", "Query", "secret table detail")
    response = api.call("GET", "/models")
    body = assert_json_error(response, 500, "InternalServerError", content_type=False)
    assert "secret" not in response.body.decode() and "Traceback" not in body["Message"]
    report = json.loads(api.call("GET", "/health").body)
    assert report["status"] == "degraded"
    (function,) = report["functions"]
    assert (function["status"], function["errors"], function["last_error_type"]) == ("failing", 1, "RuntimeError")


def test_responses_carry_the_callers_correlation_id(api: Api) -> None:
    response = api.call("GET", "/models", headers={"x-correlation-id": "order-42"})
    assert response.headers["x-correlation-id"] == "order-42"


# ------------------------------------------------------------------------------------ as API Gateway calls it


def _sample(name: str) -> dict[str, Any]:
    event = sample_event(f"registry/{name}.json")
    if event["headers"] and "x-api-key" in event["headers"]:
        event["headers"]["x-api-key"] = ADMIN_KEY
    return event


@pytest.mark.parametrize(
    ("sample", "status"),
    [
        ("RegistryApiFunction-Health", 200),
        ("RegistryApiFunction-ListModels", 200),
        ("RegistryApiFunction-GetModel", 200),
        ("RegistryAdminFunction-ActivateModel", 200),
        ("RegistryAdminFunction-RollbackModel", 404),
    ],
)
def test_sample_events_are_answered_through_the_lambda_entry_point(api: Api, sample: str, status: int) -> None:
    result = api.app(_sample(sample), LambdaContext("commerce-ai-RegistryApiFunction"))
    assert result["statusCode"] == status, result["body"]
    json.loads(result["body"])
    assert result["headers"]["x-correlation-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"  # the requestId


def test_the_body_limit_counts_bytes(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "100")
    settings.cache_clear()
    event = _sample("RegistryAdminFunction-ActivateModel")
    event["body"] = json.dumps({"version": "é" * 60}, ensure_ascii=False)  # 74 characters, 134 bytes
    assert len(event["body"]) <= 100 < len(event["body"].encode())
    result = api.app(event, LambdaContext("commerce-ai-RegistryApiFunction"))
    assert result["statusCode"] == 413


def test_the_template_api_key_parameter_is_what_the_app_reads() -> None:
    env = Stack().function("RegistryAdminFunction").environment
    assert env["ADMIN_API_KEY_PARAMETER"] == KEY_PARAMETER
    assert "ADMIN_API_KEY_PARAMETER" not in Stack().function("RegistryApiFunction").environment  # reads only
    assert Path(Stack().function("RegistryApiFunction").code_uri, "app.py").is_file()

"""Error answers never carry bucket or table names, ARNs, account ids or stack details (issue 18 part 4),
whatever failed underneath: an AWS error, a bug, a domain error built from an AWS error's reason, and a
real route (POST /events) whose storage refuses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.config import settings
from commerce_ai.errors import ModelUnavailable, safe_reason
from commerce_ai.http import json_api
from infra.runner.invoker import load_handler
from infra.template import Stack
from tests.unit.fakes import FakeAws, FakeSSMProvider, client_error

ACCOUNT = "123456789012"
BUCKET = "commerce-ai-artifacts-123456789012-us-east-1"
SECRETS = (ACCOUNT, BUCKET, "arn:aws", "Traceback", 'File "', "StreamLedgerTable", "line ")
DENIED = (
    f"User: arn:aws:sts::{ACCOUNT}:assumed-role/fn is not authorized to perform: s3:GetObject on resource: "
    f"arn:aws:s3:::{BUCKET}/models/risk-model/v1/manifest.json"
)


def leaks(body: str) -> list[str]:
    return [secret for secret in SECRETS if secret in body]


def probe() -> Any:
    app = json_api("leak-probe")

    @app.route("/aws", methods=["GET"])
    def aws_error() -> dict[str, Any]:
        raise client_error("AccessDenied", "GetObject", DENIED)

    @app.route("/bug", methods=["GET"])
    def bug() -> dict[str, Any]:
        raise KeyError(f"s3://{BUCKET}/models/x")

    @app.route("/unavailable", methods=["GET"])
    def unavailable() -> dict[str, Any]:
        raise ModelUnavailable(f"model cannot load: {safe_reason(client_error('AccessDenied', 'GetObject', DENIED))}")

    @app.route("/wrapped", methods=["GET"])
    def wrapped() -> dict[str, Any]:
        raise ModelUnavailable(safe_reason(RuntimeError(f"{DENIED} (s3://{BUCKET}/models/x)")))

    return app


@pytest.mark.parametrize("path", ["/aws", "/bug", "/unavailable", "/wrapped"])
def test_an_error_answer_names_no_resource_account_or_stack(path: str) -> None:
    with Client(probe()) as client:
        response = client.http.get(path)
    assert response.status_code >= 500
    body = response.body.decode()
    assert json.loads(body)["Code"] and leaks(body) == []


@pytest.fixture
def events_api(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> Iterator[Any]:
    fn = Stack().function("BehaviourEventsApiFunction")
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    monkeypatch.setattr(http, "_ssm_provider", FakeSSMProvider({fn.environment["INGEST_API_KEY_PARAMETER"]: "k"}))
    fake_aws.dynamodb.key_schemas[fn.environment["STREAM_LEDGER_TABLE"]] = ("consumer", "event_id")
    with Client(load_handler(fn.code_uri, fn.module, fn.attribute)) as client:
        yield client


def test_a_real_route_whose_storage_refuses_it_answers_without_names(events_api: Any, fake_aws: FakeAws) -> None:
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/commerce-ai-StreamLedgerTable"
    fake_aws.dynamodb.fail_with = client_error("AccessDeniedException", "BatchGetItem", f"not authorized on {table}")
    event = {
        "event_id": "e-1",
        "user_id": "u-1",
        "session_id": "s-1",
        "event_type": "view",
        "timestamp": "2026-12-05T10:00:00Z",
        "item_id": "sku-1",
    }
    response = events_api.http.post(
        "/events",
        headers={"Content-Type": "application/json", "x-api-key": "k"},
        body=json.dumps({"events": [event]}).encode(),
    )
    assert response.status_code == 500
    assert leaks(response.body.decode()) == []

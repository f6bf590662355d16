"""commerce_ai.http: JSON error mapping, body parsing, admin auth; with tiny apps built for the test."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.app import Request
from chalice.test import Client
from pydantic import BaseModel, Field

from commerce_ai import health, http
from commerce_ai.config import ConfigError, settings
from commerce_ai.errors import (
    CommerceError,
    Conflict,
    Forbidden,
    InvalidInput,
    ModelUnavailable,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from commerce_ai.http import error_response, json_api, parse_body, require_admin
from tests.unit.fakes import FakeSSMProvider


class Order(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(ge=1)


def make_app() -> Any:
    app = json_api("probe")

    @app.route("/unavailable", methods=["GET"])
    def unavailable() -> dict[str, Any]:
        raise ModelUnavailable("model 'demo' is unavailable (no active version)", details={"model": "demo"})

    @app.route("/raise/{kind}", methods=["GET"])
    def raise_kind(kind: str) -> dict[str, Any]:
        errors: dict[str, CommerceError] = {
            "invalid": InvalidInput("bad"),
            "unauthorized": Unauthorized("who"),
            "forbidden": Forbidden("no"),
            "missing": NotFound("none"),
            "conflict": Conflict("busy"),
            "large": PayloadTooLarge("big"),
            "base": CommerceError("generic"),
        }
        raise errors[kind]

    @app.route("/orders", methods=["POST"])
    def orders() -> dict[str, Any]:
        assert app.current_request is not None
        order = parse_body(app.current_request, Order)
        return {"sku": order.sku, "quantity": order.quantity}

    @app.route("/bug", methods=["GET"])
    def bug() -> dict[str, Any]:
        raise KeyError("internal detail")

    return app


@pytest.fixture
def client() -> Any:
    with Client(make_app()) as test_client:
        yield test_client


def body_of(response: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response.body)
    return result


def test_model_unavailable_is_a_json_503(client: Any) -> None:
    response = client.http.get("/unavailable")
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert body_of(response) == {
        "Code": "ModelUnavailableError",
        "Message": "model 'demo' is unavailable (no active version)",
        "Details": {"model": "demo"},
    }


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("invalid", 400, "BadRequestError"),
        ("unauthorized", 401, "UnauthorizedError"),
        ("forbidden", 403, "ForbiddenError"),
        ("missing", 404, "NotFoundError"),
        ("conflict", 409, "ConflictError"),
        ("large", 413, "PayloadTooLargeError"),
        ("base", 500, "InternalServerError"),
    ],
)
def test_domain_errors_map_to_their_status_and_code(client: Any, kind: str, status: int, code: str) -> None:
    response = client.http.get(f"/raise/{kind}")
    assert response.status_code == status
    assert set(body_of(response)) == {"Code", "Message"}  # no Details unless given
    assert body_of(response)["Code"] == code


def test_an_unexpected_exception_is_a_500_without_internals(client: Any) -> None:
    response = client.http.get("/bug")
    assert response.status_code == 500
    assert body_of(response) == {"Code": "InternalServerError", "Message": "An internal server error occurred."}


def test_a_valid_body_is_parsed(client: Any) -> None:
    response = client.http.post(
        "/orders", headers={"Content-Type": "application/json"}, body=b'{"sku": "A-1", "quantity": 2}'
    )
    assert (response.status_code, body_of(response)) == (200, {"sku": "A-1", "quantity": 2})


@pytest.mark.parametrize(
    ("body", "message", "fields"),
    [
        (b"", "request body is required (JSON)", None),
        (b"{", "request body is not valid JSON", None),
        (b'{"sku": "", "quantity": 0}', "request is invalid", ["quantity", "sku"]),
        (b'{"sku": "A"}', "request is invalid", ["quantity"]),
        (b"[1]", "request is invalid", ["(body)"]),
    ],
)
def test_bad_bodies_are_400(client: Any, body: bytes, message: str, fields: list[str] | None) -> None:
    response = client.http.post("/orders", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 400
    payload = body_of(response)
    assert payload["Code"] == "BadRequestError" and payload["Message"].startswith(message)
    if fields is None:
        assert "Details" not in payload
    else:
        assert sorted(d["field"] for d in payload["Details"]) == fields


def test_validation_details_never_echo_the_input(client: Any) -> None:
    response = client.http.post(
        "/orders",
        headers={"Content-Type": "application/json"},
        body=b'{"sku": "secret-customer-email@example.com", "quantity": "many"}',
    )
    assert "secret-customer-email" not in response.body.decode()


def test_route_decorator_returns_the_plain_view() -> None:
    app = json_api("plain")

    @app.route("/x")
    def view() -> dict[str, str]:
        return {"ok": "yes"}

    assert view() == {"ok": "yes"}  # still callable directly, as a function
    assert app.debug is False


def test_the_body_limit_applies_to_every_route(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "10")
    settings.cache_clear()
    response = client.http.post("/orders", headers={"Content-Type": "application/json"}, body=b"x" * 11)
    assert response.status_code == 413 and body_of(response)["Code"] == "PayloadTooLargeError"
    response = client.http.post("/orders", headers={"Content-Type": "application/json"}, body=b"x" * 10)
    assert response.status_code == 400  # at the limit: passed on to the route, which rejects the JSON


def test_every_request_counts_towards_health(client: Any) -> None:
    client.http.get("/unavailable")  # 503: the function failed its caller
    reporter = health.reporter()
    assert (reporter.invocations, reporter.errors, reporter.last_ok) == (1, 1, False)
    assert reporter.last_error_type == "RuntimeError"  # a 5xx; never the message
    client.http.get("/raise/missing")  # 404: the caller's mistake, the function is fine
    assert (reporter.invocations, reporter.errors, reporter.last_ok) == (2, 1, True)


def test_error_response_shape() -> None:
    response = error_response(418, "Teapot", "short and stout", details=[1])
    assert (response.status_code, response.body) == (
        418,
        {"Code": "Teapot", "Message": "short and stout", "Details": [1]},
    )
    assert error_response(400, "C", "m").body == {"Code": "C", "Message": "m"}


# ------------------------------------------------------------------------------------ admin


def request_with(headers: dict[str, str] | None) -> Request:
    return Request(
        {
            "multiValueQueryStringParameters": None,
            "headers": headers,
            "pathParameters": None,
            "requestContext": {"httpMethod": "POST", "resourcePath": "/x"},
            "body": None,
            "isBase64Encoded": False,
            "stageVariables": None,
        }
    )


def test_require_admin_checks_the_header_against_the_key_source() -> None:
    def key() -> str:
        return "s3cret"

    require_admin(request_with({"x-api-key": "s3cret"}), key)
    with pytest.raises(Unauthorized):
        require_admin(request_with({}), key)
    with pytest.raises(Unauthorized):
        require_admin(request_with(None), key)
    with pytest.raises(Unauthorized):
        require_admin(request_with({"x-api-key": ""}), key)
    with pytest.raises(Forbidden):
        require_admin(request_with({"x-api-key": "S3CRET"}), key)


def test_require_admin_header_name_is_case_insensitive() -> None:
    require_admin(request_with({"X-Api-Key": "k"}), lambda: "k")


def test_admin_key_reads_the_configured_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_API_KEY_PARAMETER", "/p/admin")
    provider = FakeSSMProvider({"/p/admin": "k1"})
    monkeypatch.setattr(http, "_ssm_provider", provider)
    assert http.admin_key() == "k1"
    assert provider.calls == [("/p/admin", True, 60)]


def test_admin_key_without_a_parameter_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http, "_ssm_provider", FakeSSMProvider({}))
    with pytest.raises(ConfigError, match="ADMIN_API_KEY_PARAMETER"):
        http.admin_key()

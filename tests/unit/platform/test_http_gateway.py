"""infra.runner.http_gateway: API Gateway routing, proxy events and responses, driven by a fake invoke."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from commerce_ai import http
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.config import settings
from infra.runner.http_gateway import API_GATEWAY_MAX_BODY, Gateway, Route
from infra.runner.invoker import InvocationError
from infra.runner.local import api_routes
from infra.template import Stack
from tests.support.invoke import in_process
from tests.unit.fakes import FakeAws, FakeSSMProvider


class RecordingInvoke:
    """The gateway's `invoke(function, event)`: records the call and answers with a canned result."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.result = {"statusCode": 200, "body": "{}"} if result is None else result
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.calls.append((function, event))
        if self.error is not None:
            raise self.error
        return self.result

    @property
    def event(self) -> dict[str, Any]:
        return self.calls[-1][1]


def gateway(*routes: tuple[str, str, str], invoke: RecordingInvoke | None = None) -> Gateway:
    return Gateway([Route.make(m, p, f) for m, p, f in routes], invoke or RecordingInvoke())


REGISTRY_ROUTES = (
    ("GET", "/health", "Api"),
    ("GET", "/models", "Api"),
    ("GET", "/models/{name}", "Api"),
    ("POST", "/models/{name}/activate", "Api"),
    ("POST", "/models/{name}/rollback", "Api"),
)
REGISTRY_ADMIN_ROUTES = {("POST", "/models/{name}/activate"), ("POST", "/models/{name}/rollback")}


# ----------------------------------------------------------------------------------- Route.make


def test_route_make_ranks_segments_and_upper_cases_the_method() -> None:
    route = Route.make("post", "/models/{name}/activate", "Fn")
    assert (route.method, route.path, route.function, route.rank) == (
        "POST",
        "/models/{name}/activate",
        "Fn",
        (0, 1, 0),
    )
    assert Route.make("GET", "/files/{path+}", "Fn").rank == (0, 2)
    assert route.pattern.match("/models/a/activate")
    assert not route.pattern.match("/models/a/b/activate")
    assert not route.pattern.match("/models/a/activate/")


def test_root_route_matches_only_the_root() -> None:
    route = Route.make("GET", "/", "Fn")
    assert route.pattern.match("/") and not route.pattern.match("/x")
    assert route.rank == ()


def test_literal_segments_are_regex_escaped() -> None:
    route = Route.make("GET", "/v1.0/a+b", "Fn")
    assert route.pattern.match("/v1.0/a+b")
    assert not route.pattern.match("/v1x0/aab")


# ----------------------------------------------------------------------------------- matching


def test_literal_beats_parameter_whatever_the_declaration_order() -> None:
    for order in (1, -1):
        routes = [("GET", "/models/{name}", "ByName"), ("GET", "/models/special", "Special")][::order]
        gw = gateway(*routes)
        assert gw.match("GET", "/models/special")[0].function == "Special"  # type: ignore[union-attr]
        assert gw.match("GET", "/models/other")[0].function == "ByName"  # type: ignore[union-attr]


def test_parameter_beats_greedy_proxy_for_deeper_literal_paths() -> None:
    gw = gateway(("GET", "/{proxy+}", "Proxy"), ("GET", "/models/{name}", "Model"))
    assert gw.match("GET", "/models/x")[0].function == "Model"  # type: ignore[union-attr]
    route, params, _ = gw.match("GET", "/anything/else/deep")
    assert route is not None and route.function == "Proxy"
    assert params == {"proxy": "anything/else/deep"}


def test_single_segment_parameter_beats_greedy_proxy_regardless_of_name() -> None:
    gw = gateway(("GET", "/{proxy+}", "Proxy"), ("GET", "/{zzz}", "Param"))
    assert gw.match("GET", "/foo")[0].function == "Param"  # type: ignore[union-attr]


def test_path_parameters_are_extracted() -> None:
    route, params, known = gateway(*REGISTRY_ROUTES).match("POST", "/models/demo-scorer/activate")
    assert route is not None and route.path == "/models/{name}/activate"
    assert (params, known) == ({"name": "demo-scorer"}, True)


def test_any_method_matches_every_method() -> None:
    gw = gateway(("ANY", "/things/{id}", "Fn"))
    for method in ("GET", "POST", "DELETE", "PATCH"):
        assert gw.match(method, "/things/1")[0] is not None


def test_unknown_path_is_not_known_and_wrong_method_is() -> None:
    gw = gateway(*REGISTRY_ROUTES)
    assert gw.match("GET", "/nope") == (None, {}, False)
    assert gw.match("DELETE", "/models/x") == (None, {}, True)


segment = st.text(
    alphabet=st.characters(exclude_characters="/?#", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
)


@given(segment)
def test_any_single_segment_is_a_path_parameter(value: str) -> None:
    route, params, _ = gateway(*REGISTRY_ROUTES).match("GET", f"/models/{value}")
    assert route is not None and route.path == "/models/{name}"
    assert params == {"name": value}


@given(st.lists(segment, min_size=1, max_size=5))
def test_greedy_proxy_captures_the_whole_remaining_path(parts: list[str]) -> None:
    rest = "/".join(parts)
    route, params, _ = gateway(("GET", "/files/{proxy+}", "Fn")).match("GET", f"/files/{rest}")
    assert route is not None and params == {"proxy": rest}


literal = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@given(literal, literal, st.booleans())
def test_a_literal_route_always_wins_over_a_parameter_at_the_same_position(prefix: str, leaf: str, flip: bool) -> None:
    routes = [("GET", f"/{prefix}/{{id}}", "Param"), ("GET", f"/{prefix}/{leaf}", "Literal")]
    gw = gateway(*(routes[::-1] if flip else routes))
    assert gw.match("GET", f"/{prefix}/{leaf}")[0].function == "Literal"  # type: ignore[union-attr]
    assume(leaf != "zz")
    assert gw.match("GET", f"/{prefix}/{leaf}zz")[0].function == "Param"  # type: ignore[union-attr]


# ----------------------------------------------------------------------------------- handle


def test_unknown_path_is_a_json_404_and_nothing_is_invoked() -> None:
    invoke = RecordingInvoke()
    status, headers, body = gateway(*REGISTRY_ROUTES, invoke=invoke).handle("GET", "/nope?x=1", {}, b"", "1.2.3.4")
    assert status == 404
    assert headers == {"Content-Type": "application/json"}
    assert json.loads(body) == {"Code": "NotFoundError", "Message": "no route for GET /nope"}
    assert invoke.calls == []


def test_known_path_with_another_method_is_a_json_405() -> None:
    invoke = RecordingInvoke()
    status, _, body = gateway(*REGISTRY_ROUTES, invoke=invoke).handle("DELETE", "/models/x", {}, b"", "1.2.3.4")
    assert status == 405
    assert json.loads(body)["Code"] == "MethodNotAllowedError"
    assert invoke.calls == []


def test_oversize_body_is_a_413_without_invoking() -> None:
    invoke = RecordingInvoke()
    status, _, body = gateway(*REGISTRY_ROUTES, invoke=invoke).handle(
        "POST", "/models/x/activate", {}, b"x" * (API_GATEWAY_MAX_BODY + 1), "1.2.3.4"
    )
    assert status == 413 and json.loads(body)["Code"] == "PayloadTooLargeError"
    assert invoke.calls == []


def test_invocation_error_is_a_502_like_api_gateway() -> None:
    invoke = RecordingInvoke(error=InvocationError("Runtime.ExitError", "died"))
    status, _, body = gateway(*REGISTRY_ROUTES, invoke=invoke).handle("GET", "/models", {}, b"", "1.2.3.4")
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})


def test_the_matched_function_gets_the_proxy_event() -> None:
    invoke = RecordingInvoke({"statusCode": 201, "headers": {"X-A": "1"}, "body": "made"})
    gw = Gateway([Route.make("POST", "/models/{name}/activate", "Registry"), Route.make("GET", "/x", "Other")], invoke)
    status, headers, body = gw.handle(
        "POST",
        "/models/m1/activate?a=1&b=2&a=3&empty=",
        {"Content-Type": "application/json", "User-Agent": "ua"},
        b'{"version": "v1"}',
        "10.0.0.9",
    )
    assert (status, headers, body) == (201, {"X-A": "1", "Content-Type": "application/json"}, b"made")
    function, event = invoke.calls[0]
    assert function == "Registry"
    assert event["resource"] == "/models/{name}/activate"
    assert event["path"] == "/models/m1/activate"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"name": "m1"}
    assert event["queryStringParameters"] == {"a": "3", "b": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "3"], "b": ["2"], "empty": [""]}
    assert event["headers"] == {"Content-Type": "application/json", "User-Agent": "ua"}
    assert event["multiValueHeaders"] == {"Content-Type": ["application/json"], "User-Agent": ["ua"]}
    assert (event["body"], event["isBase64Encoded"]) == ('{"version": "v1"}', False)
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["resourcePath"] == "/models/{name}/activate"
    assert context["path"] == "/Prod/models/m1/activate"
    assert (context["stage"], context["httpMethod"]) == ("Prod", "POST")
    assert context["identity"] == {"sourceIp": "10.0.0.9", "userAgent": "ua"}
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])


def test_a_request_without_extras_has_api_gateways_nulls() -> None:
    invoke = RecordingInvoke()
    gateway(*REGISTRY_ROUTES, invoke=invoke).handle("GET", "/models", {}, b"", "1.2.3.4")
    event = invoke.event
    for key in (
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "body",
    ):
        assert event[key] is None, key
    assert event["isBase64Encoded"] is False


def test_each_request_gets_its_own_request_id() -> None:
    invoke = RecordingInvoke()
    gw = gateway(*REGISTRY_ROUTES, invoke=invoke)
    gw.handle("GET", "/models", {}, b"", "1.2.3.4")
    gw.handle("GET", "/models", {}, b"", "1.2.3.4")
    assert invoke.calls[0][1]["requestContext"]["requestId"] != invoke.calls[1][1]["requestContext"]["requestId"]


@given(st.binary(min_size=1, max_size=64))
def test_binary_bodies_are_base64_and_text_bodies_are_not(body: bytes) -> None:
    invoke = RecordingInvoke()
    gateway(*REGISTRY_ROUTES, invoke=invoke).handle("POST", "/models/x/activate", {}, body, "1.2.3.4")
    event = invoke.event
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == body
    else:
        assert (event["body"], event["isBase64Encoded"]) == (text, False)


# ----------------------------------------------------------------------------------- responses


def test_proxy_response_joins_multi_value_headers_and_stringifies() -> None:
    status, headers, body = Gateway.proxy_response(
        {"statusCode": "204", "headers": {"A": 1}, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": None}
    )
    assert (status, headers, body) == (204, {"A": "1", "Set-Cookie": "a=1, b=2"}, b"")


def test_proxy_response_decodes_base64_bodies() -> None:
    payload = bytes(range(256))
    result = {"statusCode": 200, "body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
    assert Gateway.proxy_response(result) == (200, {"Content-Type": "application/json"}, payload)


def test_a_json_body_without_content_type_is_labelled_json_and_allow_names_the_methods() -> None:
    assert Gateway.proxy_response({"statusCode": 200, "body": "{}"})[1] == {"Content-Type": "application/json"}
    gateway = Gateway([Route.make("GET", "/models/{name}", "F"), Route.make("POST", "/models/{name}", "F")], None)  # type: ignore[arg-type]
    status, headers, _ = gateway.handle("DELETE", "/models/x", {}, b"", "127.0.0.1")
    assert (status, headers["Allow"]) == (405, "GET, POST")


def test_proxy_response_encodes_text_as_utf8() -> None:
    assert Gateway.proxy_response({"statusCode": 200, "body": "héllo"})[2] == "héllo".encode()


@pytest.mark.parametrize("result", [None, "text", [], {"body": "no status"}, 42])
def test_a_result_that_is_not_a_proxy_response_is_a_502(result: Any) -> None:
    status, _, body = Gateway.proxy_response(result)
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})


def test_handle_turns_a_malformed_function_result_into_a_502() -> None:
    invoke = RecordingInvoke(result={"not": "a proxy result"})
    assert gateway(*REGISTRY_ROUTES, invoke=invoke).handle("GET", "/models", {}, b"", "ip")[0] == 502


# ----------------------------------------------------------------------------------- from the template


def test_the_runner_builds_one_route_per_api_event(stack: Stack) -> None:
    registry = {"RegistryApiFunction", "RegistryAdminFunction"}
    routes = {(r.method, r.path, r.function) for r in api_routes(stack) if r.function in registry}
    assert routes == {
        (m, p, "RegistryAdminFunction" if (m, p) in REGISTRY_ADMIN_ROUTES else "RegistryApiFunction")
        for m, p, _ in REGISTRY_ROUTES
    }
    assert len(api_routes(stack)) == sum(1 for fn in stack.functions() for e in fn.events if e.type == "Api")


def test_the_gateway_and_the_real_registry_app_understand_each_other(
    stack: Stack, fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the template's routes served in-process by the real registry app, over in-memory AWS,
    monkeypatch.setenv("MODEL_REGISTRY_TABLE", "registry-table")
    monkeypatch.setenv("HEALTH_TABLE", "health-table")
    monkeypatch.setenv("ADMIN_API_KEY_PARAMETER", "/admin")
    monkeypatch.setenv("ARTIFACT_BUCKET", "artifacts")
    monkeypatch.setattr(http, "_ssm_provider", FakeSSMProvider({"/admin": "k"}))
    settings.cache_clear()
    ModelRegistry("registry-table", fake_aws.dynamodb).register_candidate("demo", "v1", "sha", {})
    gw = Gateway(api_routes(stack), in_process(stack))
    # when requests arrive as HTTP, then the app routes the proxy events the gateway builds.
    status, _, body = gw.handle("GET", "/models", {"Accept": "application/json"}, b"", "127.0.0.1")
    assert (status, json.loads(body)["items"][0]["name"]) == (200, "demo")
    status, _, body = gw.handle(
        "POST",
        "/models/demo/activate",
        {"Content-Type": "application/json", "x-api-key": "k"},
        b'{"version": "v1"}',
        "127.0.0.1",
    )
    assert (status, json.loads(body)) == (
        200,
        {"name": "demo", "active_version": "v1", "rollback_to": None, "worse_than_previous": []},
    )
    status, _, body = gw.handle("POST", "/models/demo/activate", {"Content-Type": "application/json"}, b"{", "ip")
    assert (status, json.loads(body)["Code"]) == (401, "UnauthorizedError")
    status, _, body = gw.handle("GET", "/models/Not_Valid?x=1", {}, b"", "ip")
    assert (status, json.loads(body)["Code"]) == (400, "BadRequestError")
    assert gw.handle("GET", "/nowhere", {}, b"", "ip")[0] == 404


def _served_trivial_gateway() -> Any:
    from infra.runner.http_gateway import serve

    def answer(_function: str, _event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "body": "{}"}

    return serve(Gateway([Route.make("GET", "/ping", "F")], answer), "127.0.0.1", 0)


def test_a_response_leaves_in_one_write_without_nagle() -> None:
    # Headers and body in separate small writes stall ~40 ms on a kept-alive connection (FIELD-NOTES);
    # `make bench --only gateway` measures it, this pins the two settings that prevent it.
    server = _served_trivial_gateway()
    try:
        handler = server.RequestHandlerClass
        assert handler.wbufsize > 0 and handler.disable_nagle_algorithm
    finally:
        server.shutdown()

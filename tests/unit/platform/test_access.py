"""Callers and scopes (commerce_ai.access): the template's one declaration of who may call which route, the
authorizer that applies it on AWS, and the local gateway that applies the same rules."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from commerce_ai.access import (
    ANONYMOUS,
    PUBLIC,
    AccessRules,
    KeyRing,
    RateLimit,
    RulesError,
    TokenBuckets,
    decide,
    identify,
)
from infra.runner.http_gateway import AUTHORIZER, CallerCheck, Gateway, Route
from infra.runner.invoker import load_handler
from infra.runner.local import api_routes
from infra.template import Stack
from tests.unit.fakes import FakeAws

STACK = Stack()
RULES = AccessRules.parse(STACK.function(AUTHORIZER).environment)
KEYS = {kind: f"key-of-{kind}" for kind in RULES.callers}
# Shopper-facing routes that take a body but change nothing and reveal nobody's data (visual search).
PUBLIC_POSTS = {("POST", "/visual/search"), ("POST", "/visual/scene")}


def test_every_route_in_the_template_declares_exactly_one_scope() -> None:
    routes = {(r.method, r.path) for r in api_routes(STACK)}
    assert set(RULES.routes) == routes, (routes - set(RULES.routes), set(RULES.routes) - routes)


def test_nothing_that_changes_state_is_public() -> None:
    public_writes = {route for route, scope in RULES.routes.items() if scope == PUBLIC and route[0] != "GET"}
    assert public_writes == PUBLIC_POSTS
    for route in [("POST", "/risk/score"), ("POST", "/risk/events"), ("POST", "/pricing/quote")]:
        assert RULES.routes[route] != PUBLIC, route


def test_every_scope_is_held_by_a_caller_kind_other_than_admin() -> None:
    scopes = set(RULES.routes.values()) - {PUBLIC}
    held = {scope for kind, owned in RULES.callers.items() if kind != "admin" for scope in owned}
    # Admin-only scopes: the shop owner's settings, models, experiments and catalogue writes.
    admin_only = scopes - held
    assert admin_only == {
        "models:write",
        "catalog:write",
        "pricing:write",
        "experiments",
        "support:content",
        "users:erase",
        "inventory:write",
    }
    assert set(RULES.callers) == {"checkout", "events", "labels", "operator", "admin"}
    assert set(RULES.key_parameters) == set(RULES.callers)
    assert set(RULES.rate_limits) == set(RULES.callers) | {ANONYMOUS}


def test_the_rules_fit_in_a_lambda_environment() -> None:
    resource = STACK.resources[AUTHORIZER]["Properties"]["Environment"]["Variables"]
    globals_ = STACK.raw["Globals"]["Function"]["Environment"]["Variables"]
    size = sum(len(k) + len(json.dumps(v)) for k, v in {**globals_, **resource}.items())
    assert size < 4096, f"{size} bytes: Lambda allows 4 KB of environment"


@pytest.mark.parametrize(
    ("caller", "method", "path"),
    [
        ("labels", "POST", "/models/{name}/activate"),
        ("checkout", "GET", "/risk/transactions/{transaction_id}"),
        ("events", "POST", "/risk/labels"),
        ("checkout", "PUT", "/risk/blocklist/{kind}/{identifier}"),
        ("operator", "PUT", "/experiments/{name}"),
        ("events", "POST", "/risk/score"),
        ("labels", "GET", "/pricing/skus/{sku}"),
    ],
)
def test_a_key_cannot_reach_another_callers_scope(caller: str, method: str, path: str) -> None:
    decision = decide(RULES, method, path, KEYS[caller], KEYS)
    assert decision.status == 403 and decision.caller == caller
    assert RULES.routes[(method, path)] in decision.problem and caller in decision.problem


@pytest.mark.parametrize(
    ("caller", "method", "path"),
    [
        ("checkout", "POST", "/risk/score"),
        ("checkout", "POST", "/risk/events"),
        ("events", "POST", "/events"),
        ("events", "GET", "/recommendations/{user_id}"),
        ("labels", "POST", "/risk/labels"),
        ("operator", "GET", "/risk/transactions/{transaction_id}"),
        ("operator", "GET", "/pricing/skus/{sku}"),
        ("operator", "GET", "/risk/blocklist"),
        ("admin", "POST", "/models/{name}/activate"),
        ("admin", "PUT", "/catalog/items/{item_id}"),
        ("admin", "GET", "/risk/blocklist"),  # admin holds every scope
    ],
)
def test_each_caller_reaches_its_own_routes(caller: str, method: str, path: str) -> None:
    decision = decide(RULES, method, path, KEYS[caller], KEYS)
    assert (decision.status, decision.caller) == (200, caller)
    assert RULES.routes[(method, path)] in decision.context(RULES)["scopes"].split()


def test_anonymous_callers_get_a_401_on_every_route_that_is_not_public() -> None:
    for (method, path), scope in RULES.routes.items():
        decision = decide(RULES, method, path, None, KEYS)
        if scope == PUBLIC:
            assert (decision.status, decision.caller) == (200, ANONYMOUS)
        else:
            assert decision.status == 401 and "needs a caller key" in decision.problem, (method, path)


def test_an_unknown_key_is_a_401_even_on_a_public_route_and_an_undeclared_route_is_refused() -> None:
    assert decide(RULES, "GET", "/health", "made-up", KEYS).status == 401
    assert decide(RULES, "POST", "/risk/score", "made-up", KEYS).problem.endswith("not a known caller key")
    assert decide(RULES, "GET", "/not/declared", KEYS["admin"], KEYS).status == 403


def test_keys_are_compared_whole() -> None:
    assert identify("key-of-admin", KEYS) == "admin"
    assert identify("key-of-admi", KEYS) is None and identify("key-of-admin ", KEYS) is None


def test_bad_rules_are_refused() -> None:
    with pytest.raises(RulesError, match="twice"):
        AccessRules.parse({"ROUTE_SCOPES": "GET /a public\nget /a x"})
    with pytest.raises(RulesError, match="METHOD"):
        AccessRules.parse({"ROUTE_SCOPES": "GET /a"})
    with pytest.raises(RulesError, match="known kind"):
        AccessRules.parse({"CALLER_SCOPES": "a x", "CALLER_KEYS": "b /p"})


def test_the_key_ring_reads_each_parameter_once_a_max_age() -> None:
    reads: list[list[str]] = []

    def read(names: list[str]) -> dict[str, str]:
        reads.append(names)
        return {"/p/admin": "k1"}  # /p/labels does not exist: nobody can call as labels

    ring = KeyRing({"admin": "/p/admin", "labels": "/p/labels"}, read, max_age=60)
    assert ring.keys() == {"admin": "k1"} and ring.keys() == {"admin": "k1"}
    assert reads == [["/p/admin", "/p/labels"]]


def test_a_token_bucket_allows_a_burst_then_says_when_to_come_back() -> None:
    now = [0.0]
    buckets = TokenBuckets({"labels": RateLimit(per_second=2, burst=3)}, clock=lambda: now[0])
    assert [buckets.take("labels") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("labels") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("labels") == 0.0
    assert buckets.take("admin") == 0.0  # no declared limit


class FakeRing:
    def keys(self) -> dict[str, str]:
        return KEYS


def checked_gateway(limits: dict[str, RateLimit] | None = None) -> tuple[Gateway, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def invoke(function: str, event: dict[str, Any]) -> Any:
        events.append(event)
        return {"statusCode": 200, "body": "{}"}

    rules = AccessRules(RULES.routes, RULES.callers, RULES.key_parameters, limits or {})
    callers = CallerCheck(rules, FakeRing(), TokenBuckets(rules.rate_limits))  # type: ignore[arg-type]
    routes = [Route.make("POST", "/risk/score", "Risk"), Route.make("POST", "/models/{name}/activate", "Registry")]
    return Gateway(routes, invoke, callers=callers), events


def test_the_gateway_refuses_before_invoking_and_passes_the_caller_on() -> None:
    gateway, events = checked_gateway()
    status, _, payload = gateway.handle("POST", "/risk/score", {}, b"{}", "127.0.0.1")
    assert (status, json.loads(payload)["Code"]) == (401, "UnauthorizedError")
    status, _, payload = gateway.handle("POST", "/models/m/activate", {"X-Api-Key": KEYS["labels"]}, b"", "1.2.3.4")
    assert (status, json.loads(payload)["Code"]) == (403, "ForbiddenError") and "models:write" in str(payload)
    assert events == []
    status, _, _ = gateway.handle("POST", "/risk/score", {"x-api-key": KEYS["checkout"]}, b"{}", "127.0.0.1")
    assert status == 200
    authorizer = events[0]["requestContext"]["authorizer"]
    assert authorizer["caller"] == "checkout" and "risk:score" in authorizer["scopes"].split()


def test_the_gateway_throttles_a_caller_over_its_rate_with_retry_after() -> None:
    gateway, events = checked_gateway({"checkout": RateLimit(per_second=0.5, burst=2)})
    sent = {"x-api-key": KEYS["checkout"]}
    statuses = [gateway.handle("POST", "/risk/score", sent, b"{}", "127.0.0.1")[0] for _ in range(2)]
    status, headers, payload = gateway.handle("POST", "/risk/score", sent, b"{}", "127.0.0.1")
    assert statuses == [200, 200] and status == 429 and headers["Retry-After"] == "2"
    assert json.loads(payload)["Code"] == "TooManyRequestsError" and len(events) == 2


@pytest.fixture
def authorizer(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> Any:
    fn = STACK.function(AUTHORIZER)
    for name, value in fn.environment.items():
        monkeypatch.setenv(name, value)
    handler = load_handler(fn.code_uri, fn.module, fn.attribute)
    module = sys.modules[handler.__module__]
    module._rules.cache_clear()
    module._usage_keys.cache_clear()
    monkeypatch.setattr(module, "_keys", FakeRing)
    rules = AccessRules.parse(fn.environment)
    fake_aws.apigateway.values = {key_id: f"usage-{kind}" for kind, key_id in rules.usage_keys.items()}
    yield handler
    module._rules.cache_clear()
    module._usage_keys.cache_clear()


def request(path: str, method: str, key: str | None) -> dict[str, Any]:
    arn = f"arn:aws:execute-api:us-east-1:123456789012:abc/Prod/{method}{path}"
    return {"httpMethod": method, "resource": path, "headers": {"x-api-key": key} if key else {}, "methodArn": arn}


def test_the_aws_authorizer_allows_denies_and_raises_as_api_gateway_expects(authorizer: Any) -> None:
    allowed = authorizer(request("/risk/score", "POST", KEYS["checkout"]), None)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert allowed["principalId"] == "checkout" and "risk:score" in allowed["context"]["scopes"]
    denied = authorizer(request("/models/{name}/activate", "POST", KEYS["labels"]), None)
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "models:write" in denied["context"]["problem"]
    assert denied["policyDocument"]["Statement"][0]["Resource"].endswith("/POST/models/{name}/activate")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer(request("/risk/score", "POST", None), None)
    shopper = authorizer(request("/catalog/items", "GET", None), None)
    assert shopper["principalId"] == ANONYMOUS and shopper["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    # each allowed request names its caller kind's usage plan key (the method requires one: ApiKeyRequired)
    assert (allowed["usageIdentifierKey"], shopper["usageIdentifierKey"]) == ("usage-checkout", "usage-anonymous")
    assert "usageIdentifierKey" not in denied

"""Callers and scopes through the local gateway over the real functions on the emulator (README, "Callers and
scopes"): each caller kind reaches its own routes, gets a 403 on another's, anonymous callers get a 401 on
every route that is not public, and a caller over its rate limit gets a 429 with Retry-After."""

from __future__ import annotations

import re

import pytest

from commerce_ai.access import PUBLIC, RateLimit, TokenBuckets
from infra.runner.http_gateway import CallerCheck, Gateway
from infra.runner.local import api_routes
from infra.template import Stack
from tests.integration.local_stack import call
from tests.support.invoke import in_process


@pytest.fixture(scope="module")
def checked(stack: Stack) -> tuple[Gateway, CallerCheck]:
    callers = CallerCheck.from_stack(stack)
    return Gateway(api_routes(stack), in_process(stack), callers=callers), callers


def test_anonymous_callers_get_a_401_on_every_route_that_is_not_public(checked: tuple[Gateway, CallerCheck]) -> None:
    gateway, callers = checked
    refused = 0
    for (method, path), scope in callers.rules.routes.items():
        if scope == PUBLIC:
            continue
        concrete = re.sub(r"\{[^}]+\}", "it-x", path)
        status, body = call(gateway, method, concrete, {})
        assert (status, body["Code"]) == (401, "UnauthorizedError"), (method, path, body)
        refused += 1
    assert refused >= 40


@pytest.mark.parametrize(
    ("caller", "method", "path", "body"),
    [
        ("labels", "POST", "/models/it-nothing/activate", {"version": "v1"}),  # labels cannot activate models
        ("checkout", "GET", "/risk/transactions/t-it-1", None),  # checkout cannot read transactions
        ("events", "POST", "/risk/labels", {"transaction_id": "t-it-1", "is_fraud": True, "source": "chargeback"}),
        ("operator", "PUT", "/experiments/it-exp", {}),
        ("checkout", "POST", "/events", {"events": []}),
    ],
)
def test_a_caller_cannot_use_another_callers_scope(
    checked: tuple[Gateway, CallerCheck], caller: str, method: str, path: str, body: object
) -> None:
    status, answer = call(checked[0], method, path, body, caller=caller)
    assert (status, answer["Code"]) == (403, "ForbiddenError") and caller in answer["Message"]


@pytest.mark.parametrize(
    ("caller", "method", "path", "body", "expected"),
    [
        # Reached the function: its own answer (a 400 or 404 for these made-up ids), not the gateway's refusal.
        ("checkout", "POST", "/risk/score", {"transaction_id": "t-it-x"}, 400),
        ("checkout", "POST", "/risk/events", {"event_type": "login"}, 400),
        (
            "labels",
            "POST",
            "/risk/labels",
            {"transaction_id": "t-it-never", "is_fraud": True, "source": "chargeback"},
            404,
        ),
        ("events", "POST", "/events", {"events": []}, 400),
        ("operator", "GET", "/risk/blocklist?limit=1", None, 200),
        ("operator", "GET", "/pricing/skus/it-never-seen", None, 404),
        ("admin", "POST", "/models/it-never-published/activate", {"version": "v1"}, 404),
    ],
)
def test_each_caller_reaches_its_own_routes(
    checked: tuple[Gateway, CallerCheck], caller: str, method: str, path: str, body: object, expected: int
) -> None:
    status, answer = call(checked[0], method, path, body, caller=caller)
    assert status == expected, answer


def test_a_caller_over_its_rate_limit_gets_a_429_with_retry_after(stack: Stack) -> None:
    callers = CallerCheck.from_stack(stack)
    callers.buckets = TokenBuckets({"operator": RateLimit(per_second=0.2, burst=2)})
    gateway = Gateway(api_routes(stack), in_process(stack), callers=callers)
    sent = [call(gateway, "GET", "/risk/blocklist?limit=1", caller="operator")[0] for _ in range(2)]
    status, headers, payload = gateway.handle(
        "GET", "/risk/blocklist", {"x-api-key": callers.keys.keys()["operator"]}, b"", "127.0.0.1"
    )
    assert sent == [200, 200] and status == 429 and int(headers["Retry-After"]) >= 1
    assert b"TooManyRequestsError" in payload
    assert call(gateway, "GET", "/risk/blocklist?limit=1", caller="admin")[0] == 200  # another caller's bucket

"""template.yaml and the code agree: every handler exists, every Chalice route is an Api event and back.

The template is what deploys and what the local runner serves; a route that exists only in code is
unreachable in AWS, and an Api event without a route is a permanent 404/403. Neither is caught by
cfn-lint or by importing the code, so it is checked here.
"""

from __future__ import annotations

from typing import Any

import pytest
from chalice import Chalice

from commerce_ai.pricing.tick_log import REQUEST_ATTEMPTS, RUN_TIMEOUT
from infra.runner.invoker import load_handler
from infra.template import ROOT, Function, FunctionEvent, Stack

_STACK = Stack()
FUNCTIONS = _STACK.functions()
FUNCTION_IDS = [fn.logical_id for fn in FUNCTIONS]


def handler_of(fn: Function) -> Any:
    return load_handler(fn.code_uri, fn.module, fn.attribute)


def api_events(fn: Function) -> set[tuple[str, str]]:
    return {(str(e.properties["Method"]).upper(), str(e.properties["Path"])) for e in fn.events if e.type == "Api"}


def chalice_routes(app: Chalice) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, methods in app.routes.items() for method in methods}


def test_the_template_declares_functions() -> None:
    # Guards the parametrised tests below against passing vacuously on an empty list.
    assert len(FUNCTIONS) >= 3


@pytest.mark.parametrize("fn", FUNCTIONS, ids=FUNCTION_IDS)
def test_handler_module_file_exists_under_code_uri(fn: Function) -> None:
    assert fn.code_uri.is_dir(), f"{fn.logical_id}: CodeUri {fn.code_uri} is not a directory"
    module_file = fn.code_uri / (fn.module.replace(".", "/") + ".py")
    assert module_file.is_file(), f"{fn.logical_id}: Handler {fn.handler} has no {module_file}"


@pytest.mark.parametrize("fn", FUNCTIONS, ids=FUNCTION_IDS)
def test_handler_imports_without_configuration_and_is_callable(fn: Function) -> None:
    # Given no function configuration in the environment (conftest clears it),
    # when the handler module is imported the way Lambda's runtime imports it,
    handler = handler_of(fn)
    # then the attribute exists and is callable: configuration is read per request, not at import.
    assert callable(handler), f"{fn.logical_id}: {fn.handler} is not callable"


def route_disagreements(fn: Function, handler: Any) -> list[str]:
    """Differences between a function's Api events and what its handler can route."""
    declared = api_events(fn)
    if not isinstance(handler, Chalice):
        return [f"{fn.logical_id}: Api event {r} but the handler is not a Chalice app" for r in sorted(declared)]
    routes = chalice_routes(handler)
    problems = [f"{fn.logical_id}: route {r} has no Api event in template.yaml" for r in sorted(routes - declared)]
    problems += [f"{fn.logical_id}: Api event {r} has no Chalice route" for r in sorted(declared - routes)]
    if not routes:
        problems.append(f"{fn.logical_id}: Chalice app has no routes")
    return problems


@pytest.mark.parametrize("fn", FUNCTIONS, ids=FUNCTION_IDS)
def test_chalice_routes_equal_the_functions_api_events(fn: Function) -> None:
    assert route_disagreements(fn, handler_of(fn)) == []


def _function_with_api(*routes: tuple[str, str]) -> Function:
    events = [FunctionEvent(f"E{i}", "Api", {"Path": p, "Method": m}) for i, (m, p) in enumerate(routes)]
    return Function("Fn", "stack-Fn", ROOT, "app.app", "python3.11", 3, 128, [], {}, events)


def test_route_comparison_reports_both_directions() -> None:
    # Given an app with GET /a and POST /b/{x}, and a template declaring GET /a and GET /c,
    app = Chalice("probe")
    app.route("/a", methods=["GET"])(lambda: {})
    app.route("/b/{x}", methods=["POST"])(lambda x: {})
    fn = _function_with_api(("get", "/a"), ("GET", "/c"))
    # when they are compared,
    problems = route_disagreements(fn, app)
    # then the undeclared route and the unrouted event are both reported, and the shared one is not.
    assert problems == [
        "Fn: route ('POST', '/b/{x}') has no Api event in template.yaml",
        "Fn: Api event ('GET', '/c') has no Chalice route",
    ]


def test_route_comparison_rejects_api_events_on_a_plain_handler() -> None:
    fn = _function_with_api(("GET", "/a"))
    assert route_disagreements(fn, lambda event, context: None) == [
        "Fn: Api event ('GET', '/a') but the handler is not a Chalice app"
    ]


def test_at_least_one_function_is_a_chalice_app() -> None:
    # Otherwise the route comparison above would never run.
    assert any(isinstance(handler_of(fn), Chalice) for fn in FUNCTIONS)


def test_no_api_route_is_served_by_two_functions() -> None:
    seen: dict[tuple[str, str], str] = {}
    for fn in FUNCTIONS:
        for route in api_events(fn):
            assert route not in seen, f"{route} is declared by {seen[route]} and {fn.logical_id}"
            seen[route] = fn.logical_id


def test_non_api_handlers_are_plain_lambda_handlers() -> None:
    # An SQS or Schedule trigger pointed at a Chalice app would get a proxy-event router, not a handler.
    for fn in FUNCTIONS:
        if any(e.type != "Api" for e in fn.events):
            assert not isinstance(handler_of(fn), Chalice), f"{fn.logical_id}: non-Api events on a Chalice app"


def test_the_tick_log_knows_the_repricing_timeout_and_the_request_attempts() -> None:
    """A `running` tick status is read as stopped past RepricingFunction's timeout, and as out of attempts
    after the reprice queue's maxReceiveCount: both figures must be the template's."""
    repricing = next(fn for fn in FUNCTIONS if fn.logical_id == "RepricingFunction")
    assert repricing.timeout == RUN_TIMEOUT.total_seconds()
    queue = _STACK.resources["RepriceRequestsQueue"]["Properties"]
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) == REQUEST_ATTEMPTS

"""Every sample under events/ is a whole Lambda event that `commerce-ai invoke` accepts, named after its
function and trigger (`events/<capability>/<Function>-<Event>[-variant].json`), and every function in
template.yaml has at least one. Each parses as its trigger's event shape (Powertools' parser models, the
shapes Lambda delivers), an HTTP one routes to the Api event it is named after, and a queue one comes
from that event's queue. Times are `{{now}}` placeholders, so a sample works on any day."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    ApiGatewayAuthorizerRequest,
    APIGatewayProxyEventModel,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
    EventBridgeModel,
    SqsModel,
)

from infra.runner.http_gateway import Route
from infra.runner.local import api_routes
from infra.sample_events import PLACEHOLDER, SAMPLE_NAME, fill_placeholders, load_event
from infra.template import AUTHORIZER_EVENT, ROOT, WEBSOCKET_EVENT, FunctionEvent, Stack
from tests.support.capabilities import capability_of

STACK = Stack()
FUNCTIONS = {fn.logical_id: fn for fn in STACK.functions()}
SAMPLES = sorted((ROOT / "events").rglob("*.json"))
WEBSOCKET_MODELS: dict[str, Any] = {
    "$connect": APIGatewayWebSocketConnectEventModel,
    "$disconnect": APIGatewayWebSocketDisconnectEventModel,
}


def _named(path: Path) -> tuple[str, FunctionEvent]:
    found = SAMPLE_NAME.match(path.name)
    assert found, f"{path.name} is not named <Function>-<Event>[-variant].json"
    fn = FUNCTIONS.get(found["function"])
    assert fn is not None, f"{path.name}: no function {found['function']} in template.yaml"
    events = {e.name: e for e in fn.events}
    assert found["event"] in events, f"{path.name}: {fn.logical_id} has no event {found['event']} ({sorted(events)})"
    return fn.logical_id, events[found["event"]]


def test_there_are_samples() -> None:
    assert len(SAMPLES) >= len(FUNCTIONS)


def test_every_function_has_a_sample_event() -> None:
    covered = {_named(path)[0] for path in SAMPLES}
    assert sorted(set(FUNCTIONS) - covered) == []


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_a_sample_is_named_after_its_function_and_trigger_in_its_capabilitys_folder(path: Path) -> None:
    function, _ = _named(path)
    assert path.parent == ROOT / "events" / capability_of(FUNCTIONS[function])


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.stem)
def test_a_sample_parses_as_its_triggers_event(path: Path) -> None:
    _, trigger = _named(path)
    event = load_event(path)
    assert "{{" not in json.dumps(event), "a placeholder was left unfilled"
    if trigger.type == "Api":
        api = APIGatewayProxyEventModel.model_validate(event)
        assert (api.httpMethod, api.resource) == (str(trigger.properties["Method"]).upper(), trigger.properties["Path"])
        assert api.requestContext.resourcePath == api.resource
        found = Route.make(api.httpMethod, api.resource, "-").pattern.match(api.path)
        assert found is not None, f"path {api.path} does not match resource {api.resource}"
        assert (found.groupdict() or None) == api.pathParameters
        content_type = {k.lower(): v for k, v in (api.headers or {}).items()}.get("content-type")
        if api.body is not None and api.isBase64Encoded:  # a binary body (an image), as API Gateway passes it
            assert base64.b64decode(api.body, validate=True)
            assert content_type is not None and content_type.startswith(("image/", "multipart/form-data"))
        elif api.body is not None:
            json.loads(api.body)
            assert content_type == "application/json"
    elif trigger.type == "SQS":
        queue = STACK.resolve(trigger.properties["Queue"])
        records = SqsModel.model_validate(event).Records
        assert records and all(r.eventSourceARN == queue for r in records), f"records must come from {queue}"
    elif trigger.type == "Schedule":
        scheduled = EventBridgeModel.model_validate(event)
        assert (scheduled.source, scheduled.detail_type) == ("aws.events", "Scheduled Event")
    elif trigger.type == WEBSOCKET_EVENT:
        model = WEBSOCKET_MODELS.get(str(trigger.properties["RouteKey"]), APIGatewayWebSocketMessageEventModel)
        context = model.model_validate(event).request_context
        assert context.route_key == trigger.properties["RouteKey"]
    elif trigger.type == AUTHORIZER_EVENT:  # API Gateway's REQUEST authorizer call, for one declared route
        request = ApiGatewayAuthorizerRequest.model_validate(event)
        assert request.type == "REQUEST" and request.methodArn.endswith(f"/{request.httpMethod}{request.resource}")
        assert (request.httpMethod, request.resource) in {(r.method, r.path) for r in api_routes(STACK)}
    else:
        raise AssertionError(f"no sample shape for {trigger.type} events: teach this test")


def test_placeholders_are_filled_relative_to_now() -> None:
    now = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)
    text = '{"at": "{{now}}", "before": "{{now-5m}}", "after": "{{now+2h}}", "day": "{{now-1d}}", "s": "{{now-30s}}"}'
    assert json.loads(fill_placeholders(text, now)) == {
        "at": "2026-12-05T14:30:00.000Z",
        "before": "2026-12-05T14:25:00.000Z",
        "after": "2026-12-05T16:30:00.000Z",
        "day": "2026-12-04T14:30:00.000Z",
        "s": "2026-12-05T14:29:30.000Z",
    }
    assert PLACEHOLDER.search("{{later}}") is None  # only {{now...}} is a placeholder


def test_the_risk_samples_are_recent_whenever_they_are_loaded() -> None:
    # Risk refuses events more than 7 days old; a sample dated once would stop working a week later.
    for moment in (datetime(2027, 6, 1, tzinfo=UTC), datetime.now(UTC)):
        payment = json.loads(load_event(ROOT / "events/risk/RiskApiFunction-Score.json", moment)["body"])
        login = json.loads(load_event(ROOT / "events/risk/RiskApiFunction-AccountEvent.json", moment)["body"])
        stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert payment["timestamp"] == stamp and login["timestamp"] < payment["timestamp"]

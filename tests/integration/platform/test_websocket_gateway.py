"""The local API Gateway WebSocket stand-in (infra/runner/websocket_gateway.py), driven by a real WebSocket
client and a real boto3 management-API client: routes from the template, the handshake refused with the
$connect function's status, frames routed on `action`, post-to-connection back on the connection (and
GoneException once it is closed), $disconnect on close, and events of the shapes Lambda delivers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from infra.emulator import free_port
from infra.runner.websocket_gateway import WebSocketApi, WebSocketGateway, websocket_apis
from infra.template import Stack

API = WebSocketApi("ChatApi", "chat123", "live", "action", {"$connect": "Fn", "$disconnect": "Fn", "message": "Fn"})


class Function:
    """Stands in for a function: refuses a connection without `user_id`, answers a message through the
    management API as a real function does."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.gateway: WebSocketGateway | None = None

    def __call__(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        context = event["requestContext"]
        if context["routeKey"] == "$connect" and not (event.get("queryStringParameters") or {}).get("user_id"):
            return {"statusCode": 401, "body": "who are you?"}
        if context["routeKey"] == "message":
            assert self.gateway is not None
            client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=f"{self.gateway.management_url}/live",
                region_name="us-east-1",
                aws_access_key_id="x",
                aws_secret_access_key="x",
            )
            body = json.loads(event["body"])
            client.post_to_connection(ConnectionId=context["connectionId"], Data=json.dumps({"echo": body}).encode())
        return {"statusCode": 200}


@pytest.fixture
def served() -> Iterator[tuple[WebSocketGateway, Function, str]]:
    function = Function()
    gateway = WebSocketGateway([API], function, "us-east-1")
    function.gateway = gateway
    port = free_port()
    gateway.start("127.0.0.1", port)
    yield gateway, function, f"ws://127.0.0.1:{port}/live"
    gateway.stop()


def test_routes_come_from_the_template() -> None:
    (api,) = websocket_apis(Stack())
    assert api.stage == "live" and api.selection_key == "action"
    assert api.routes == {
        "$connect": "SupportWebSocketFunction",
        "$disconnect": "SupportWebSocketFunction",
        "message": "SupportWebSocketFunction",
    }


def test_the_functions_aws_endpoints_become_the_local_ones(served: tuple[WebSocketGateway, Function, str]) -> None:
    gateway, _, url = served
    env = {
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": "https://chat123.execute-api.us-east-1.amazonaws.com/live",
        "SUPPORT_WEBSOCKET_URL": "wss://chat123.execute-api.us-east-1.amazonaws.com/live",
        "OTHER": "kept",
    }
    local = gateway.local_environment(env, url.rsplit("/", 1)[0])
    assert local == {
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": f"{gateway.management_url}/live",
        "SUPPORT_WEBSOCKET_URL": url,
        "OTHER": "kept",
    }


def test_a_refused_handshake_gets_the_connect_functions_status(served: tuple[WebSocketGateway, Function, str]) -> None:
    _, function, url = served
    with pytest.raises(InvalidStatus) as refused:
        connect(url, open_timeout=10)
    assert refused.value.response.status_code == 401
    APIGatewayWebSocketConnectEventModel.model_validate(function.events[-1])
    with pytest.raises(InvalidStatus) as unknown:
        connect(url.replace("/live", "/other") + "?user_id=u-1", open_timeout=10)
    assert unknown.value.response.status_code == 404


def test_a_message_is_routed_and_answered_on_the_connection(served: tuple[WebSocketGateway, Function, str]) -> None:
    gateway, function, url = served
    with connect(f"{url}?user_id=u-1", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "message", "text": "hi"}))
        assert json.loads(socket.recv(timeout=10)) == {"echo": {"action": "message", "text": "hi"}}
        socket.send(json.dumps({"action": "dance"}))  # no such route and no $default: AWS's answer
        assert json.loads(socket.recv(timeout=10))["message"] == "Forbidden"
        (connection_id,) = gateway.connections
    deadline = time.monotonic() + 10
    while function.events[-1]["requestContext"]["routeKey"] != "$disconnect":
        assert time.monotonic() < deadline, "no $disconnect"
        time.sleep(0.05)
    connect_event, message_event, disconnect_event = function.events
    assert connect_event["queryStringParameters"] == {"user_id": "u-1"}
    APIGatewayWebSocketMessageEventModel.model_validate(message_event)
    closed = APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect_event)
    assert closed.request_context.connection_id == connection_id
    assert closed.request_context.disconnect_status_code == 1000


def test_posting_to_a_closed_connection_is_gone(served: tuple[WebSocketGateway, Function, str]) -> None:
    gateway, _, _ = served
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{gateway.management_url}/live",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="nobody+/=", Data=b"{}")


def test_frames_from_one_connection_are_handled_in_order(served: tuple[WebSocketGateway, Function, str]) -> None:
    _, _, url = served
    with connect(f"{url}?user_id=u-1", open_timeout=10) as socket:
        for i in range(5):
            socket.send(json.dumps({"action": "message", "n": i}))
        assert [json.loads(socket.recv(timeout=10))["echo"]["n"] for _ in range(5)] == list(range(5))

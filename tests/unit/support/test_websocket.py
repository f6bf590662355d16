"""The WebSocket channel's glue (`commerce_ai.support.websocket`, `functions/support/chat_socket.py`) over
in-memory AWS: the caller check at $connect, the connection's customer fixed for its messages, every bad
frame answered with an error frame on the connection, and an agent's reply pushed where the customer is."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_ai.config import clear_cached_settings
from commerce_ai.errors import Forbidden, InvalidInput, Unauthorized
from commerce_ai.support import service, websocket
from commerce_ai.support.contract import MessageIn, MessageOut
from commerce_ai.support.store import Connections
from tests.unit.fakes import FakeAws, FakeDynamoDB

TABLE = "conversations"
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def aws(fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    fake_aws.dynamodb = FakeDynamoDB(key_schemas={TABLE: ("conversation_id",)})
    monkeypatch.setenv("SUPPORT_CONVERSATIONS_TABLE", TABLE)
    monkeypatch.setenv(
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "https://api1.execute-api.us-east-1.amazonaws.com/live"
    )
    monkeypatch.setattr(websocket, "ingest_key", lambda: "front")
    monkeypatch.setattr(websocket, "admin_key", lambda: "admin")
    clear_cached_settings()
    return fake_aws


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[MessageIn, str | None]]:
    """The bot stands in: what it was asked, for which connection."""
    seen: list[tuple[MessageIn, str | None]] = []

    def handle(body: MessageIn, now: datetime, connection_id: str | None = None) -> MessageOut:
        seen.append((body, connection_id))
        return MessageOut(
            conversation_id=body.conversation_id or "c-new",
            new_conversation=body.conversation_id is None,
            notice=None,
            reply="ok",
            intent="greeting",
            confidence=0.9,
            language="en",
            emotion=0.0,
            handoff=False,
            slots={},
            agent_replies=[],
        )

    monkeypatch.setattr(service, "handle_message", handle)
    return seen


def test_connect_needs_the_front_end_or_admin_key(aws: FakeAws) -> None:
    with pytest.raises(Unauthorized):
        websocket.connect("conn-1", {}, {"user_id": "u-1"}, NOW)
    with pytest.raises(Forbidden):
        websocket.connect("conn-1", {"X-Api-Key": "guess"}, {"user_id": "u-1"}, NOW)
    with pytest.raises(InvalidInput, match="user_id"):
        websocket.connect("conn-1", {"x-api-key": "front"}, {}, NOW)
    assert aws.dynamodb.tables[TABLE] == {}
    websocket.connect("conn-1", {"X-Api-Key": "front"}, {"user_id": "u-1"}, NOW)
    websocket.connect("conn-2", None, {"user_id": "u-2", "channel": "app", "api_key": "admin"}, NOW)  # a browser
    connections = Connections(TABLE)
    one, two = connections.get("conn-1", 0), connections.get("conn-2", 0)
    assert one is not None and (one.user_id, one.channel) == ("u-1", "h5")
    assert two is not None and (two.user_id, two.channel) == ("u-2", "app")
    assert connections.get("conn-1", int(NOW.timestamp()) + 3 * 3600) is None  # API Gateway's 2 h are over


def test_a_message_answers_on_the_connection_for_its_customer(
    aws: FakeAws, answered: list[tuple[MessageIn, str | None]]
) -> None:
    websocket.connect("conn-1", {"x-api-key": "front"}, {"user_id": "u-1"}, NOW)
    frame = json.dumps({"action": "message", "text": "你好", "conversation_id": "c-7"}, ensure_ascii=False)
    out = websocket.message("conn-1", frame, False, NOW)
    assert out["type"] == "reply" and out["conversation_id"] == "c-7"
    ((asked, connection_id),) = answered
    assert (asked.user_id, asked.text, asked.channel, connection_id) == ("u-1", "你好", "h5", "conn-1")
    assert aws.apigatewaymanagementapi.frames("conn-1") == [out]


@pytest.mark.parametrize(
    ("body", "encoded", "problem"),
    [
        (None, False, "empty frame"),
        ("not json", False, "not JSON"),
        ('{"action": "message", "text": ""}', False, "text"),
        ('{"action": "message", "text": "hi", "user_id": "u-2"}', False, "user_id"),  # never the frame's user
        ('{"action": "message", "text": "' + "x" * 1001 + '"}', False, "text"),
        (base64.b64encode(b'{"action": "message", "text": "\xff"}').decode(), True, "UTF-8"),
        ('{"action": "message", "text": "' + "x" * 9000 + '"}', False, "8192 bytes"),
    ],
)
def test_a_bad_frame_gets_an_error_frame(
    aws: FakeAws, answered: list[tuple[MessageIn, str | None]], body: str | None, encoded: bool, problem: str
) -> None:
    websocket.connect("conn-1", {"x-api-key": "front"}, {"user_id": "u-1"}, NOW)
    out = websocket.message("conn-1", body, encoded, NOW)
    assert out["type"] == "error" and out["status"] == 400 and problem in out["message"], out
    assert aws.apigatewaymanagementapi.frames("conn-1") == [out] and answered == []


def test_a_message_on_an_unknown_connection_is_refused(aws: FakeAws, answered: list[Any]) -> None:
    out = websocket.message("conn-x", '{"action": "message", "text": "hi"}', False, NOW)
    assert (out["type"], out["status"]) == ("error", 404) and answered == []


def test_disconnect_forgets_the_connection(aws: FakeAws) -> None:
    websocket.connect("conn-1", {"x-api-key": "front"}, {"user_id": "u-1"}, NOW)
    websocket.disconnect("conn-1")
    assert Connections(TABLE).get("conn-1", 0) is None


def test_a_closed_connection_is_not_an_error(aws: FakeAws) -> None:
    from commerce_ai.support.store import ConnectionPusher

    aws.apigatewaymanagementapi.gone.add("conn-1")
    assert ConnectionPusher().post("conn-1", {"type": "agent_reply"}) is False
    assert ConnectionPusher().post("conn-2", {"type": "agent_reply"}) is True


def test_without_a_management_endpoint_nothing_is_pushed(aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> None:
    from commerce_ai.support.store import ConnectionPusher

    monkeypatch.delenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI")
    clear_cached_settings()
    assert ConnectionPusher().post("conn-1", {"type": "agent_reply"}) is False
    assert aws.apigatewaymanagementapi.posted == []


def test_the_handler_refuses_the_handshake_with_the_checks_status(aws: FakeAws) -> None:
    from infra.runner.context import LambdaContext
    from infra.runner.invoker import load_handler
    from infra.template import ROOT
    from tests.support.events import sample

    handler = load_handler(ROOT / "functions" / "support", "chat_socket", "handler")
    connect = sample("support/SupportWebSocketFunction-Connect.json")
    connect["headers"]["x-api-key"] = "wrong"
    assert handler(connect, LambdaContext("support-websocket"))["statusCode"] == 403
    del connect["headers"]["x-api-key"]
    assert handler(connect, LambdaContext("support-websocket"))["statusCode"] == 401
    unknown = {**connect, "requestContext": {**connect["requestContext"], "routeKey": "dance"}}
    assert handler(unknown, LambdaContext("support-websocket"))["statusCode"] == 400

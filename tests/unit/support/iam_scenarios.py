"""Customer service's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The
public API scenario serves the real `support-encoder`, a small real `support-intents` artifact, the demo orders and
the FAQ."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.support import service as support_service
from model_build.support.seeding import demo_orders, faq_entries, seed_graph
from tests.support.events import sample
from tests.support.support import built_support
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (support_service.intent_loader, support_service.encoder_loader)


def seeded(world: World, function: str) -> dict[str, str]:
    """The bot's world as `up` lays it out (model, orders, FAQ, graph); the function's environment."""
    env = STACK.function(function).environment
    world.ssm.values[env["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.ssm.values[env["INGEST_API_KEY_PARAMETER"]] = "front"
    world.serve(world.built("support", built_support))
    from commerce_ai.catalog.store import Catalog
    from commerce_ai.support.store import DynamoGraph, DynamoOrders, FaqStore

    for order in demo_orders():
        DynamoOrders(env["SUPPORT_ORDERS_TABLE"], dynamodb=world.aws.dynamodb).put(order)
    for entry in faq_entries():
        FaqStore(env["SUPPORT_FAQ_TABLE"], dynamodb=world.aws.dynamodb).put(entry)
    catalog = Catalog(env["CATALOG_TABLE"], dynamodb=world.aws.dynamodb)
    seed_graph(DynamoGraph(env["SUPPORT_GRAPH_TABLE"], catalog, dynamodb=world.aws.dynamodb))
    support_service.faq_cache.index = None
    return env


def ticket_on_a_websocket_conversation(world: World, env: dict[str, str]) -> str:
    """A handed-off conversation whose customer is on a WebSocket connection, and its open ticket."""
    from commerce_ai.support.conversation import ConversationState
    from commerce_ai.support.store import Conversations, Tickets

    now = datetime.now(UTC)
    state = ConversationState(
        conversation_id="c-ws",
        user_id="u-ws",
        channel="h5",
        created_at=now,
        updated_at=now,
        expires_at=int(now.timestamp()) + 3600,
        owner="agent",
        ticket_id="t-ws",
        connection_id="conn-1",
    )
    Conversations(env["SUPPORT_CONVERSATIONS_TABLE"], dynamodb=world.aws.dynamodb).put(state, None)
    document = {
        "ticket_id": "t-ws",
        "conversation_id": "c-ws",
        "user_id": "u-ws",
        "reason": "request",
        "intent": "human_agent",
        "slots": {},
        "emotion": 0.0,
        "language": "en",
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "transcript": [],
    }
    Tickets(env["SUPPORT_TICKETS_TABLE"], dynamodb=world.aws.dynamodb).open(document, now)
    return "t-ws"


def run_support_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The public side: a conversation with the bot up to its hand-off, the FAQ, a product's facts, the page."""
    handler, _ = configure(monkeypatch, "SupportApiFunction", tmp_path)
    seeded(world, "SupportApiFunction")
    world.forget_setup()
    front = {"Content-Type": "application/json", "x-api-key": "front"}

    def say(text: str, conversation_id: str | None = None) -> dict[str, object]:
        body = {"user_id": "u-bob", "text": text, "channel": "web", "conversation_id": conversation_id}
        answer = client.http.post("/support/messages", headers=front, body=json.dumps(body).encode())
        assert answer.status_code == 200, answer.body
        result: dict[str, object] = json.loads(answer.body)
        return result

    with Client(handler) as client:
        first = say("cancel order A1002 please")
        conversation_id = str(first["conversation_id"])
        say("bob@example.com", conversation_id)  # the rules allow it: the order is cancelled
        fits = say("does this case fit the X200?", conversation_id)
        assert "accessory_of" in str(fits["reply"]), fits
        handed = say("转人工", conversation_id)
        assert handed["handoff"] is True
        assert [json.loads(m["MessageBody"])["reason"] for m in world.aws.sqs.sent] == ["request"]
        assert client.http.get("/support/faq").status_code == 200
        assert client.http.get("/support/graph/items/kg-charger-30w").status_code == 200
        assert client.http.get("/support/chat").status_code == 200


def run_support_agents(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The agents' side: a handed-off conversation's transcript, the open tickets, a reply pushed on the
    customer's WebSocket, then the conversation erased."""
    handler, _ = configure(monkeypatch, "SupportAgentFunction", tmp_path)
    seeded(world, "SupportApiFunction")  # the bot's world, as `up` lays it out
    ticket_id = ticket_on_a_websocket_conversation(world, STACK.function("SupportAgentFunction").environment)
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        assert client.http.get("/support/conversations/c-ws", headers=admin).status_code == 200
        assert client.http.get("/support/tickets?status=open", headers=admin).status_code == 200
        pushed = {"text": "Hello, I am here to help.", "close": True}
        reply = client.http.post(f"/support/tickets/{ticket_id}/reply", headers=admin, body=json.dumps(pushed).encode())
        assert reply.status_code == 200, reply.body
        assert world.aws.apigatewaymanagementapi.frames("conn-1")[-1]["type"] == "agent_reply"
        assert client.http.delete("/support/conversations/c-ws", headers=admin).status_code == 200


def run_support_admin(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The admin's content edits: an FAQ entry written and removed, a product's relations and one relation."""
    handler, _ = configure(monkeypatch, "SupportAdminFunction", tmp_path)
    seeded(world, "SupportApiFunction")  # the same FAQ, graph and catalogue tables
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        put = client.http.put("/support/faq/gift-wrap", headers=admin, body=sample_body("PutFaq"))
        assert put.status_code == 200, put.body
        assert client.http.delete("/support/faq/gift-wrap", headers=admin).status_code == 200
        edited = client.http.put("/support/graph/items/kg-charger-30w", headers=admin, body=sample_body("PutGraphItem"))
        assert edited.status_code == 200 and len(json.loads(edited.body)["relations"]) == 3, edited.body
        relation = "/support/graph/items/kg-phone-x100/relations/substitute_for/kg-phone-x300"
        assert client.http.put(relation, headers=admin).status_code == 200
        assert client.http.delete(relation, headers=admin).status_code == 200


def sample_body(event: str) -> bytes:
    body = sample(f"support/SupportAdminFunction-{event}.json")["body"]
    return body.encode() if isinstance(body, str) else body


def run_support_tickets(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "SupportTicketsFunction", tmp_path)
    world.forget_setup()
    assert handler(sample("support/SupportTicketsFunction-TicketQueued.json"), context) == {"batchItemFailures": []}


def run_support_websocket(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "SupportWebSocketFunction", tmp_path)
    seeded(world, "SupportWebSocketFunction")
    world.forget_setup()
    connect = sample("support/SupportWebSocketFunction-Connect.json")
    connect["headers"]["x-api-key"] = "front"
    assert handler(connect, context) == {"statusCode": 200}
    assert handler(sample("support/SupportWebSocketFunction-Message.json"), context) == {"statusCode": 200}
    connection_id = connect["requestContext"]["connectionId"]
    (frame,) = world.aws.apigatewaymanagementapi.frames(connection_id)
    assert (frame["type"], frame["intent"]) == ("reply", "order_status"), frame
    assert handler(sample("support/SupportWebSocketFunction-Disconnect.json"), context) == {"statusCode": 200}


SCENARIOS: dict[str, Scenario] = {
    "SupportApiFunction": run_support_api,
    "SupportAgentFunction": run_support_agents,
    "SupportAdminFunction": run_support_admin,
    "SupportWebSocketFunction": run_support_websocket,
    "SupportTicketsFunction": run_support_tickets,
}

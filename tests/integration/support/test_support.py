"""Customer service on the emulator: real `support-encoder` and `support-intents` artifacts validated by the
registry, the conversation state in DynamoDB across turns, the demo orders and the rules, a hand-off ticket through
the agents' queue into the tickets table (once, even when redelivered), an agent's reply reaching the
customer, the caller checks and bad input."""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import clear_cached_settings
from commerce_ai.erasure import ErasureLog
from commerce_ai.support import service as support_service
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.store import Conversations, DynamoOrders, Tickets
from infra.emulator import free_port
from infra.runner.sqs_poller import QueueSource
from infra.runner.websocket_gateway import WebSocketGateway, websocket_apis
from infra.template import Stack
from model_build import publish
from model_build.support import seed
from tests.conftest import ADMIN_KEY, INGEST_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.invoke import in_process
from tests.support.support import built_support


@pytest.fixture(scope="module")
def support_stack(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    for built in built_support(tmp_path_factory.mktemp("support")):
        manifest = publish(store, built)
        drain(stack, registry, built.name, versions=len(registry.versions(built.name)) + 1)
        registry.activate(built.name, manifest.version)
    assert "8 demo order(s)" in seed(stack, Path("."))
    again = seed(stack, Path("."))  # idempotent: nothing is added twice
    assert "0 demo order(s)" in again and "0 demo catalogue item(s)" in again
    return stack


def say(gateway: Any, user: str, text: str, conversation_id: str | None = None) -> dict[str, Any]:
    body = {"user_id": user, "text": text, "channel": "web", "conversation_id": conversation_id}
    status, answer = call(gateway, "POST", "/support/messages", body, INGEST_KEY)
    assert status == 200, answer
    result: dict[str, Any] = answer
    return result


def tickets_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("SupportHandoffQueue"))["QueueUrl"]
    return QueueSource(
        "SupportTicketsFunction", url, stack.arn("SupportHandoffQueue"), batch_size=10, report_failures=True
    )


def test_a_chinese_order_conversation_keeps_its_state_and_the_rules_decide(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    first = say(gateway, "u-bob", "我的订单到哪了？")
    assert (first["intent"], first["language"], first["new_conversation"]) == ("order_status", "zh", True)
    conversation_id = first["conversation_id"]
    assert "邮箱或手机号" in say(gateway, "u-bob", "A1007", conversation_id)["reply"]
    status = say(gateway, "u-bob", "bob@example.com", conversation_id)
    assert "SF2234567890" in status["reply"] and status["slots"] == {"order_id": "A1007", "contact": "verified"}
    refused = say(gateway, "u-bob", "帮我改一下收货地址", conversation_id)
    assert "只有发货前才能修改地址" in refused["reply"]  # A1007 is shipped: the rule says why
    stored = Conversations(support_stack.physical_name("SupportConversationsTable")).get(conversation_id, 0)
    assert stored is not None
    state, revision = stored
    assert revision == 4 and state.intents[-1] == "change_address" and len(state.transcript) == 8
    assert state.expires_at > 0


def test_a_conversation_id_answers_only_for_its_user(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    mine = say(gateway, "u-alice", "where is order A1001")
    theirs = say(gateway, "u-mallory", "alice@example.com", mine["conversation_id"])
    assert theirs["conversation_id"] != mine["conversation_id"] and theirs["new_conversation"] is True
    assert theirs["notice"] == support_service.UNKNOWN_CONVERSATION
    assert "A1001" not in theirs["reply"]
    unknown = say(gateway, "u-alice", "hello", "c-00000000000000000000000000000000")
    assert unknown["new_conversation"] is True and unknown["notice"] is not None


def test_hand_off_ticket_reaches_the_table_once_and_the_agent_reply_the_customer(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    source = tickets_source(support_stack)
    empty_queue(source.queue_url)
    first = say(gateway, "u-chen", "cancel order A1005")
    conversation_id = first["conversation_id"]
    say(gateway, "u-chen", "chen@example.com", conversation_id)  # delivered: cannot be cancelled
    angry = say(gateway, "u-chen", "This is unacceptable, I'm furious, you are useless!!", conversation_id)
    assert angry["handoff"] is True and angry["emotion"] > 0.7
    silent = say(gateway, "u-chen", "hello??", conversation_id)
    assert silent["reply"] == "" and silent["handoff"] is True
    messages = aws.client("sqs").receive_message(QueueUrl=source.queue_url, WaitTimeSeconds=2)["Messages"]
    body = messages[0]["Body"]
    aws.client("sqs").delete_message(QueueUrl=source.queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
    ticket = json.loads(body)
    assert (ticket["reason"], ticket["slots"]) == ("emotion", {"order_id": "A1005"})
    for _ in range(2):  # delivered twice: recorded once
        aws.client("sqs").send_message(QueueUrl=source.queue_url, MessageBody=body)
    invoke = in_process(support_stack)
    for _ in range(5):
        source.poll_once(invoke, threading.Event(), wait_seconds=1)
    tickets = Tickets(support_stack.physical_name("SupportTicketsTable"))
    assert tickets.get(ticket["ticket_id"]) is not None
    status, page = call(gateway, "GET", "/support/tickets?status=open&limit=200", None, ADMIN_KEY)
    assert status == 200 and [t["ticket_id"] for t in page["items"]].count(ticket["ticket_id"]) == 1
    assert call(gateway, "GET", "/support/tickets", None, INGEST_KEY)[0] == 403
    reply = {"text": "Sorry Chen, a refund is on its way.", "close": True}
    status, replied = call(gateway, "POST", f"/support/tickets/{ticket['ticket_id']}/reply", reply, ADMIN_KEY)
    assert status == 200 and replied["owner"] == "bot" and replied["status"] == "closed"
    back = say(gateway, "u-chen", "thanks", conversation_id)
    assert back["agent_replies"] == [reply["text"]] and back["handoff"] is False and back["reply"]
    status, view = call(gateway, "GET", f"/support/conversations/{conversation_id}", None, ADMIN_KEY)
    assert status == 200 and [m["role"] for m in view["transcript"]].count("agent") == 1
    assert call(gateway, "GET", f"/support/conversations/{conversation_id}", None, INGEST_KEY)[0] == 403
    order = DynamoOrders(support_stack.physical_name("SupportOrdersTable")).get("A1005")
    assert order is not None and order.status == "delivered"


def test_bad_input_is_a_clear_4xx(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    for text in ["", "   ", "x" * 1001, "bad\u0000bytes"]:
        status, answer = call(gateway, "POST", "/support/messages", {"user_id": "u-1", "text": text}, INGEST_KEY)
        assert status == 400, (text[:10], answer)
    status, _ = call(gateway, "POST", "/support/messages", {"user_id": "u-1", "text": "hi"})
    assert status == 401
    headers = {"Content-Type": "application/json", "x-api-key": INGEST_KEY}
    status, _, payload = gateway.handle(
        "POST", "/support/messages", headers, b'{"user_id": "u-1", "text": "\xff\xfe"}', "127.0.0.1"
    )
    assert status == 400, payload


def test_the_knowledge_graph_answers_over_the_shared_catalogue(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    status, item = call(gateway, "GET", "/catalog/items/kg-case-x200")
    assert status == 200 and item["category"] == "phone_cases"
    fits = say(gateway, "u-dana", "does this case fit the X200?")
    assert fits["intent"] == "product_question"
    assert "kg-case-x200 -accessory_of-> kg-phone-x200" in fits["reply"] and "Slim case for X200" in fits["reply"]
    size = say(gateway, "u-dana", "雨衣我体重65公斤穿什么码？")
    assert size["intent"] == "size_guide" and "M" in size["reply"] and "kg-chart-tops" in size["reply"]


def test_an_admin_edits_the_graphs_relations_and_the_bot_answers_from_them(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    charger = "/support/graph/items/kg-charger-30w"
    status, seeded = call(gateway, "GET", charger)
    assert status == 200 and seeded["title"] == "30 W USB-C charger", seeded
    assert [r["target"] for r in seeded["relations"]] == ["kg-phone-x100", "kg-phone-x200"]
    original = {"relations": seeded["relations"], "aliases": seeded["aliases"]}
    before = say(gateway, "u-hal", "does the 30w charger fit the X300?")
    assert "kg-phone-x200 -same_series-> kg-phone-x300" in before["reply"], before  # two hops: only related
    edit = {
        "relations": [*seeded["relations"], {"relation": "compatible_with", "target": "kg-phone-x300"}],
        "aliases": ["charger", "充电器", "30W Charger"],
    }
    assert call(gateway, "PUT", charger, edit)[0] == 401  # nobody changes the graph anonymously
    assert call(gateway, "PUT", charger, edit, INGEST_KEY)[0] == 403

    status, edited = call(gateway, "PUT", charger, edit, ADMIN_KEY)

    assert status == 200 and len(edited["relations"]) == 3 and "30w charger" in edited["aliases"], edited
    assert call(gateway, "GET", charger)[1] == edited  # read back
    status, x300 = call(gateway, "GET", "/support/graph/items/kg-phone-x300")
    assert {"relation": "compatible_with", "source": "kg-charger-30w"} in x300["related_from"]
    after = say(gateway, "u-hal", "does the 30w charger fit the X300?")
    assert "kg-charger-30w -compatible_with-> kg-phone-x300" in after["reply"], after
    assert after["reply"].startswith("Yes")

    # One relation at a time: added (safe to repeat), removed from both ends, then 404.
    one = "/support/graph/items/kg-phone-x100/relations/substitute_for/kg-phone-x300"
    assert call(gateway, "PUT", one, None, ADMIN_KEY)[1]["changed"] is True
    assert call(gateway, "PUT", one, None, ADMIN_KEY)[1]["changed"] is False
    assert call(gateway, "DELETE", one, None, ADMIN_KEY)[0] == 200
    assert {"relation": "substitute_for", "source": "kg-phone-x100"} not in call(
        gateway, "GET", "/support/graph/items/kg-phone-x300"
    )[1]["related_from"]
    status, gone = call(gateway, "DELETE", one, None, ADMIN_KEY)
    assert status == 404 and "no substitute_for relation" in gone["Message"], gone

    # Bad edits are refused, naming the problem, and change nothing.
    def refused(method: str, path: str, body: object = None) -> tuple[int, str]:
        status, answer = call(gateway, method, path, body, ADMIN_KEY)
        return status, json.dumps(answer, ensure_ascii=False)

    assert refused("PUT", "/support/graph/items/kg-phone-x100/relations/fits/kg-phone-x300")[0] == 400
    status, problem = refused("PUT", charger, {"relations": [{"relation": "compatible_with", "target": "kg-nope"}]})
    assert status == 400 and "not in the catalogue: kg-nope" in problem, problem
    status, problem = refused("PUT", "/support/graph/items/kg-jacket-rain/relations/size_chart/kg-phone-x100")
    assert status == 400 and "category size_chart: kg-phone-x100" in problem, problem
    status, problem = refused("PUT", "/support/graph/items/kg-phone-x100/relations/same_series/kg-phone-x100")
    assert status == 400 and "itself" in problem, problem
    status, problem = refused("PUT", charger, {"relations": [], "aliases": ["x200"]})
    assert status == 409 and "kg-phone-x200" in problem, problem
    status, problem = refused("PUT", "/support/graph/items/kg-unknown", {"relations": []})
    assert status == 404 and "kg-unknown" in problem, problem
    assert call(gateway, "GET", charger)[1] == edited

    # A relation an admin removed stays removed when `up` seeds again.
    assert call(gateway, "DELETE", f"{charger}/relations/compatible_with/kg-phone-x100", None, ADMIN_KEY)[0] == 200
    seed(support_stack, Path("."))
    assert "kg-phone-x100" not in [r["target"] for r in call(gateway, "GET", charger)[1]["relations"]]

    assert call(gateway, "PUT", charger, original, ADMIN_KEY)[0] == 200  # as seeded, for the other tests
    assert call(gateway, "GET", charger)[1] == seeded


def test_items_from_before_the_by_user_index_are_backfilled_once(support_stack: Stack) -> None:
    ddb = aws.client("dynamodb")
    table = support_stack.physical_name("SupportConversationsTable")
    now = datetime.now(UTC)

    def written_before_the_index(conversation_id: str, user_id: str, at: datetime) -> None:
        state = ConversationState(
            conversation_id=conversation_id,
            user_id=user_id,
            channel="web",
            created_at=at,
            updated_at=at,
            expires_at=int(now.timestamp()) + 3600,
        )
        item = {
            "conversation_id": {"S": conversation_id},
            "doc": {"S": state.model_dump_json()},
            "expires_at": {"N": str(state.expires_at)},
            "revision": {"N": "1"},
        }
        ddb.put_item(TableName=table, Item=item)

    written_before_the_index("c-old-ivy", "u-ivy", now - timedelta(hours=1))
    written_before_the_index("c-old-jon", "u-jon", now - timedelta(hours=2))
    ErasureLog(support_stack.physical_name("UserErasuresTable")).record("u-jon", now - timedelta(hours=1))
    conversations = Conversations(table)
    assert conversations.erase_user("u-ivy") == 0  # what the erasure found before: nothing

    first = seed(support_stack, Path("."))

    assert "1 item(s) from before the by_user index given a user hash, 1 of erased users deleted" in first, first
    assert conversations.get("c-old-jon", 0) is None  # its user's erasure had missed it
    assert conversations.erase_user("u-ivy") == 1  # the index finds it now
    assert "0 item(s) from before the by_user index given a user hash, 0 of" in seed(support_stack, Path("."))


def test_the_shop_wide_erasure_removes_a_users_conversations_and_tickets(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    source = tickets_source(support_stack)
    empty_queue(source.queue_url)
    first = say(gateway, "u-erin", "where is my order A1003?")
    second = say(gateway, "u-erin", "I want to talk to a human")  # a second conversation, handed off
    other = say(gateway, "u-frank", "hello")
    invoke = in_process(support_stack)
    source.poll_once(invoke, threading.Event(), wait_seconds=2)
    conversations = Conversations(support_stack.physical_name("SupportConversationsTable"))
    tickets = Tickets(support_stack.physical_name("SupportTicketsTable"))
    status, page = call(gateway, "GET", "/support/tickets?status=open&limit=200", None, ADMIN_KEY)
    assert [t["conversation_id"] for t in page["items"]].count(second["conversation_id"]) == 1

    status, erased = call(gateway, "DELETE", "/users/u-erin", None, ADMIN_KEY)

    assert status == 200 and erased["removed"]["support"] == 3, erased  # two conversations, one ticket
    assert conversations.get(first["conversation_id"], 0) is None
    assert conversations.get(second["conversation_id"], 0) is None
    assert conversations.get(other["conversation_id"], 0) is not None  # someone else's stays
    status, page = call(gateway, "GET", "/support/tickets?status=open&limit=200", None, ADMIN_KEY)
    assert second["conversation_id"] not in [t["conversation_id"] for t in page["items"]]
    assert tickets.erase_user("u-erin") == 0


def test_a_ticket_still_on_the_queue_when_its_user_is_erased_is_dropped(support_stack: Stack) -> None:
    gateway = gateway_for(support_stack)
    source = tickets_source(support_stack)
    empty_queue(source.queue_url)
    handed = say(gateway, "u-gina", "转人工")
    assert handed["handoff"] is True
    assert call(gateway, "DELETE", "/users/u-gina", None, ADMIN_KEY)[0] == 200  # before the ticket is recorded
    source.poll_once(in_process(support_stack), threading.Event(), wait_seconds=2)
    _, page = call(gateway, "GET", "/support/tickets?status=open&limit=200", None, ADMIN_KEY)
    assert handed["conversation_id"] not in [t["conversation_id"] for t in page["items"]]


@pytest.fixture
def chat_socket(support_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The template's WebSocket API on the local gateway, its functions in process, as `up` wires them."""
    gateway = WebSocketGateway(websocket_apis(support_stack), in_process(support_stack), support_stack.env.region)
    port = free_port()
    gateway.start("127.0.0.1", port)
    monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", f"{gateway.management_url}/live")
    clear_cached_settings()
    aws.reset_clients()
    yield f"ws://127.0.0.1:{port}/live"
    gateway.stop()
    aws.reset_clients()


def test_a_customer_chats_over_the_websocket_and_the_agents_reply_is_pushed(
    support_stack: Stack, chat_socket: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(f"{chat_socket}?user_id=u-wendy", open_timeout=10)
    assert refused.value.response.status_code == 401
    gateway = gateway_for(support_stack)
    source = tickets_source(support_stack)
    empty_queue(source.queue_url)
    with ws_connect(f"{chat_socket}?user_id=u-wendy&channel=h5&api_key={INGEST_KEY}", open_timeout=10) as socket:

        def ask(text: str, conversation_id: str | None = None) -> dict[str, Any]:
            socket.send(json.dumps({"action": "message", "text": text, "conversation_id": conversation_id}))
            frame: dict[str, Any] = json.loads(socket.recv(timeout=30))
            return frame

        first = ask("我的订单到哪了？")
        assert (first["type"], first["intent"], first["language"]) == ("reply", "order_status", "zh")
        conversation_id = first["conversation_id"]
        assert "邮箱或手机号" in ask("A1007", conversation_id)["reply"]
        assert "SF2234567890" in ask("bob@example.com", conversation_id)["reply"]
        bad = ask("", conversation_id)
        assert (bad["type"], bad["status"]) == ("error", 400)
        handed = ask("太垃圾了！！气死我了，我要投诉！！", conversation_id)
        assert handed["handoff"] is True, handed
        source.poll_once(in_process(support_stack), threading.Event(), wait_seconds=2)
        status, page = call(gateway, "GET", "/support/tickets?status=open&limit=200", None, ADMIN_KEY)
        (ticket,) = [t for t in page["items"] if t["conversation_id"] == conversation_id]
        reply = {"text": "您好，我是客服小王，马上为您处理。", "close": False}
        status, _ = call(gateway, "POST", f"/support/tickets/{ticket['ticket_id']}/reply", reply, ADMIN_KEY)
        assert status == 200
        pushed = json.loads(socket.recv(timeout=30))
        assert pushed == {"type": "agent_reply", "conversation_id": conversation_id, "text": reply["text"]}
    conversations = Conversations(support_stack.physical_name("SupportConversationsTable"))
    stored = conversations.get(conversation_id, 0)
    assert stored is not None and stored[0].transcript[-1].delivered is True  # shown: not repeated over HTTP

"""Customer service from outside, against `commerce-ai up`: a customer asks in Chinese about an order,
gives the id and contact when asked, gets the status, complains and is handed to a person (the ticket
recorded from the agents' queue by the real poller), whose reply reaches the customer; bad input is a 4xx."""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.conftest import Running, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _front(running: Running) -> dict[str, str]:
    return {"x-api-key": (running.state_dir / "ingest-key").read_text().strip(), "Content-Type": "application/json"}


def test_a_chinese_customer_is_answered_then_handed_to_a_person(running: Running) -> None:
    front = _front(running)
    admin = {"x-api-key": running.admin_key, "Content-Type": "application/json"}

    def say(text: str, conversation_id: str | None = None) -> dict[str, Any]:
        body = {"user_id": "u-bob", "text": text, "channel": "h5", "conversation_id": conversation_id}
        answer = requests.post(f"{running.http}/support/messages", json=body, headers=front, timeout=30)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    first = say("你好，我的订单到哪了？")
    assert (first["intent"], first["language"]) == ("order_status", "zh")
    conversation_id = first["conversation_id"]
    say("A1007", conversation_id)
    status = say("13800138002", conversation_id)
    assert "已发货" in status["reply"] and "SF2234567890" in status["reply"]
    angry = say("等了这么久还没到，气死我了，太垃圾了！！", conversation_id)
    assert angry["handoff"] is True and angry["emotion"] > 0.7

    def ticket() -> dict[str, Any] | None:
        page = requests.get(f"{running.http}/support/tickets?limit=200", headers=admin, timeout=10).json()
        mine = [t for t in page["items"] if t["conversation_id"] == conversation_id]
        return mine[0] if mine else None

    found = until(ticket, timeout=60)
    assert found["reason"] == "emotion" and found["slots"] == {"order_id": "A1007"}
    assert say("人呢？", conversation_id)["reply"] == ""  # a person owns it: the bot is silent
    reply = {"text": "您好，非常抱歉，快递明天送达，我们给您补偿一张优惠券。", "close": True}
    sent = requests.post(
        f"{running.http}/support/tickets/{found['ticket_id']}/reply", json=reply, headers=admin, timeout=10
    )
    assert sent.status_code == 200, sent.text
    back = say("好的，谢谢", conversation_id)
    assert back["agent_replies"] == [reply["text"]] and back["handoff"] is False


def test_bad_messages_are_4xx(running: Running) -> None:
    front = _front(running)
    url = f"{running.http}/support/messages"
    for body in [{"user_id": "u-1", "text": ""}, {"user_id": "u-1", "text": "x" * 1001}, {"user_id": "u-1"}]:
        assert requests.post(url, json=body, headers=front, timeout=10).status_code == 400
    binary = requests.post(url, data=b'{"user_id": "u-1", "text": "\xff\xfe\x00"}', headers=front, timeout=10)
    assert binary.status_code == 400
    assert requests.post(url, json={"user_id": "u-1", "text": "hi"}, timeout=10).status_code == 401

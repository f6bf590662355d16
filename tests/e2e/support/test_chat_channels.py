"""Customer service's chat channels against `commerce-ai up`: the WebSocket API served by the local gateway
(a real WebSocket client), and the H5 page at `GET /support/chat` in a real headless browser (Debian's
chromium through its chromedriver): a customer asks in Chinese about an order, gives the id and contact
when asked, gets the status, complains, is handed to a person, and the person's reply appears on the page."""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.conftest import Running, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _front_key(running: Running) -> str:
    return (running.state_dir / "ingest-key").read_text().strip()


def _ticket_of(running: Running, conversation_id: str) -> dict[str, Any] | None:
    admin = {"x-api-key": running.admin_key}
    page = requests.get(f"{running.http}/support/tickets?limit=200", headers=admin, timeout=10).json()
    mine = [t for t in page["items"] if t["conversation_id"] == conversation_id]
    return mine[0] if mine else None


def _agent_reply(running: Running, ticket_id: str, text: str) -> None:
    admin = {"x-api-key": running.admin_key, "Content-Type": "application/json"}
    body = {"text": text, "close": False}
    sent = requests.post(f"{running.http}/support/tickets/{ticket_id}/reply", json=body, headers=admin, timeout=10)
    assert sent.status_code == 200, sent.text


def test_the_websocket_api_answers_and_pushes_the_agents_reply(running: Running) -> None:
    url = f"{running.ws}/live"
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{url}?user_id=u-ws&api_key=wrong", open_timeout=10)
    assert refused.value.response.status_code == 403
    with connect(f"{url}?user_id=u-ws&api_key={_front_key(running)}", open_timeout=10) as socket:

        def ask(text: str, conversation_id: str | None = None) -> dict[str, Any]:
            socket.send(json.dumps({"action": "message", "text": text, "conversation_id": conversation_id}))
            frame: dict[str, Any] = json.loads(socket.recv(timeout=30))
            return frame

        first = ask("where is my order A1003?")
        assert (first["type"], first["intent"]) == ("reply", "order_status"), first
        handed = ask("I want to talk to a human", first["conversation_id"])
        assert handed["handoff"] is True
        ticket = until(lambda: _ticket_of(running, first["conversation_id"]), timeout=60)
        _agent_reply(running, ticket["ticket_id"], "Hi, this is Sam from the shop.")
        pushed = json.loads(socket.recv(timeout=30))
        assert pushed == {"type": "agent_reply", "conversation_id": first["conversation_id"], "text": pushed["text"]}


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(f"the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_the_h5_page_chats_over_the_websocket_and_shows_the_persons_reply(running: Running, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    browser.get(f"{running.http}/support/chat#user=u-h5&key={_front_key(running)}")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-mode") == "websocket")

    def ask(text: str, role: str = "bot") -> str:
        before = len(browser.find_elements(By.CSS_SELECTOR, f".msg.{role}"))
        box = browser.find_element(By.ID, "text")
        box.send_keys(text)
        browser.find_element(By.ID, "send").click()
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, f".msg.{role}")) > before)
        answer: str = browser.find_elements(By.CSS_SELECTOR, f".msg.{role}")[-1].text
        return answer

    assert "订单号" in ask("你好，我的订单到哪了？")
    assert "邮箱或手机号" in ask("A1007")
    status = ask("13800138002")
    assert "已发货" in status and "SF2234567890" in status
    assert "人工" in ask("等了这么久还没到，气死我了，太垃圾了！！")  # handed to a person
    conversation_id = browser.execute_script("return state.conversation")
    ticket = until(lambda: _ticket_of(running, conversation_id), timeout=60)
    assert ticket["reason"] == "emotion"
    _agent_reply(running, ticket["ticket_id"], "您好，我是客服小王，快递明天送达。")
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "log"), "我是客服小王"))
    assert browser.find_elements(By.CSS_SELECTOR, ".msg.agent")[-1].text == "您好，我是客服小王，快递明天送达。"
    assert not browser.find_elements(By.CSS_SELECTOR, ".msg.error")

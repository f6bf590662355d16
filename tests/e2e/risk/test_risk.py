"""Risk from outside: an account takeover stopped while the user's own traffic is approved; a queued
transaction scored and its decline published."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import STACK, Running, until

# The first test also waits for `up`, which on a new machine fetches data and trains every capability.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _risk_login(user: str, device: str, ip: str, when: datetime, place: dict[str, float]) -> dict[str, Any]:
    return {
        "event_type": "login",
        "user_id": user,
        "device_id": device,
        "ip": ip,
        "timestamp": _stamp(when),
        "location": place,
        "success": True,
    }


def _risk_payment(txn: str, user: str, device: str, ip: str, when: datetime, **rest: Any) -> dict[str, Any]:
    return {
        "transaction_id": txn,
        "user_id": user,
        "device_id": device,
        "ip": ip,
        "merchant_id": rest.pop("merchant_id", "m-grocer-e2e"),
        "amount": rest.pop("amount", 23.4),
        "currency": "USD",
        "timestamp": _stamp(when),
        "location": rest.pop("location", {"lat": 41.88, "lon": -87.63}),
        "payment_method": "card",
        "card_id": "c-e2e",
        **rest,
    }


def test_an_account_takeover_is_stopped_while_the_users_normal_traffic_is_approved(running: Running) -> None:
    # `up` trained risk-model and risk-graph on the simulator and activated them.
    chicago, lagos = {"lat": 41.88, "lon": -87.63}, {"lat": 6.52, "lon": 3.38}
    user, phone, home_ip = "u-e2e-ato", "d-e2e-phone", "198.51.100.10"
    now = datetime.now(UTC)

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(f"{running.http}{path}", json=body, headers=running.headers("checkout"), timeout=30)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    # The user's own week: a login and a grocery payment at home each day, on their phone.
    for day in range(6, 0, -1):
        when = now - timedelta(days=day, hours=2)
        post("/risk/events", _risk_login(user, phone, home_ip, when, chicago))
        own = post("/risk/score", _risk_payment(f"t-e2e-own-{day}", user, phone, home_ip, when + timedelta(minutes=4)))
        assert own["decision"] == "approve", own
    today = post("/risk/score", _risk_payment("t-e2e-own-today", user, phone, home_ip, now - timedelta(minutes=30)))
    assert today["decision"] == "approve", today

    # Then a login from a new device in another continent, minutes later, and fast high-value payments.
    post("/risk/events", _risk_login(user, "d-e2e-stranger", "203.0.113.66", now - timedelta(minutes=4), lagos))
    stolen = _risk_payment(
        "t-e2e-ato-1",
        user,
        "d-e2e-stranger",
        "203.0.113.66",
        now,
        amount=640.0,
        merchant_id="m-e2e-gadgets",
        location=lagos,
    )
    verdict = post("/risk/score", stolen)
    assert verdict["decision"] in ("review", "decline"), verdict
    assert verdict["model_version"] and verdict["graph_version"]
    assert any(r["type"] == "rule" and r["name"] == "impossible_travel_new_device" for r in verdict["reasons"])


def test_a_transaction_queued_with_boto3_is_scored_and_its_decline_published(running: Running) -> None:
    sqs = running.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-RiskTransactionsQueue")["QueueUrl"]
    outcomes = sqs.get_queue_url(QueueName=f"{STACK}-RiskOutcomesQueue")["QueueUrl"]
    over_limit = _risk_payment(
        "t-e2e-bulk-1", "u-e2e-bulk", "d-e2e-bulk", "198.51.100.77", datetime.now(UTC), amount=50_000.0
    )
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(over_limit))

    def scored() -> dict[str, Any] | None:
        response = requests.get(
            f"{running.http}/risk/transactions/t-e2e-bulk-1", headers={"x-api-key": running.admin_key}, timeout=10
        )
        return response.json() if response.status_code == 200 else None

    assert until(scored)["decision"] == "decline"
    published = until(lambda: sqs.receive_message(QueueUrl=outcomes, WaitTimeSeconds=1).get("Messages"))
    assert json.loads(published[0]["Body"])["transaction_id"] == "t-e2e-bulk-1"

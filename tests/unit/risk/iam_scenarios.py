"""Risk's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The scenarios that
serve a model get real `risk-model` and `risk-graph` artifacts (a small simulated world, about two
seconds to build, once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.risk import service as risk_service
from commerce_ai.risk import weekly as risk_weekly
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from tests.support.events import sample_body
from tests.support.risk import built_risk, store_scored_history
from tests.unit.fakes import UNIT_PSEUDONYM_KEY, sqs_message
from tests.unit.iam import STACK, Scenario, World, configure

# What lives as long as a warm container: one per scenario.
CACHED = (risk_service.store, risk_service.model_loader, risk_service.graph_loader)


def serve_risk(world: World) -> None:
    """Publish and activate risk-model and risk-graph, as `commerce-ai up` does, with the graph's pseudonym
    key in SSM, as bootstrap puts it."""
    world.serve(world.built("risk", built_risk))
    for function in ("RiskApiFunction", "RiskBulkScoringFunction", "RiskWeeklyFunction"):
        world.ssm.values[STACK.function(function).environment["RISK_PSEUDONYM_KEY_PARAMETER"]] = UNIT_PSEUDONYM_KEY


def _now_stamp(offset: timedelta = timedelta(0)) -> str:
    return f"{datetime.now(UTC) + offset:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"


def run_risk_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RiskApiFunction", tmp_path)
    world.ssm.values[STACK.function("RiskApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    serve_risk(world)
    world.forget_setup()
    plain = {"Content-Type": "application/json"}
    admin = {**plain, "x-api-key": "k"}
    login = {**sample_body("risk/RiskApiFunction-AccountEvent.json"), "timestamp": _now_stamp(timedelta(minutes=-5))}
    payment = {**sample_body("risk/RiskApiFunction-Score.json"), "timestamp": _now_stamp()}
    with Client(handler) as client:
        assert client.http.post("/risk/events", headers=plain, body=json.dumps(login).encode()).status_code == 200
        scored = client.http.post("/risk/score", headers=plain, body=json.dumps(payment).encode())
        assert scored.status_code == 200, scored.body
        # twice: the second BatchGetItem finds the stored result and answers with it
        again = client.http.post("/risk/score", headers=plain, body=json.dumps(payment).encode())
        assert json.loads(again.body)["replayed"] is True
        label = {"transaction_id": payment["transaction_id"], "is_fraud": True, "source": "chargeback"}
        assert client.http.post("/risk/labels", headers=admin, body=json.dumps(label).encode()).status_code == 200
        assert client.http.get("/risk/blocklist?limit=5", headers=admin).status_code == 200
        looked_up = client.http.get(f"/risk/transactions/{payment['transaction_id']}", headers=admin)
        assert looked_up.status_code == 200
        block = client.http.put("/risk/blocklist/device/d-9", headers=admin, body=b'{"blocked": true}')
        assert block.status_code == 200


def run_risk_bulk_scoring(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskBulkScoringFunction", tmp_path)
    serve_risk(world)
    world.forget_setup()
    sample = sample_body("risk/RiskApiFunction-Score.json")
    blocked = {**sample, "transaction_id": "t-blocked", "amount": 25000.0, "timestamp": _now_stamp()}  # declined
    messages = [
        sqs_message("m1", json.dumps({**sample, "timestamp": _now_stamp()})),
        sqs_message("m2", json.dumps(blocked)),
        sqs_message("m3", "{not json"),  # poison: fails alone
    ]
    result = handler(sqs_event(messages, STACK.arn("RiskTransactionsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert len(world.aws.sqs.sent) == 1  # the decline went to the outcomes queue


def run_risk_account_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskAccountEventsFunction", tmp_path)
    world.forget_setup()
    login = {**sample_body("risk/RiskApiFunction-AccountEvent.json"), "timestamp": _now_stamp(), "event_id": "e-1"}
    messages = [
        sqs_message("m1", json.dumps(login)),
        sqs_message("m2", json.dumps({**login, "success": "maybe"})),
        sqs_message("m3", json.dumps(login)),  # the same event again: its claim is found taken (GetItem)
    ]
    result = handler(sqs_event(messages, STACK.arn("RiskAccountEventsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def run_risk_weekly(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskWeeklyFunction", tmp_path)
    monkeypatch.setattr(risk_weekly, "MIN_GRAPH_PAYMENTS", 1)  # one payment is enough to activate here
    serve_risk(world)  # the previous snapshot is active; the job publishes and activates the next one
    results = risk_service.store()
    scored = {"score": 0.9, "decision": "decline", "timestamp": _now_stamp(), "user_id": "u-1", "device_id": "d-1"}
    results.claim("t-1", {**scored, "ip": "203.0.113.7", "merchant_id": "m-1"}, datetime.now(UTC))
    results.label("t-1", True, "chargeback", datetime.now(UTC), "digest")
    world.forget_setup()
    summary = handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)
    assert (summary["outcome"], summary["payments"], summary["labelled_fraud"]) == ("activated", 1, 1)
    assert world.registry.active_version("risk-graph") == summary["graph_version"]


def run_risk_challenger(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskChallengerFunction", tmp_path)
    serve_risk(world)  # the champion
    frauds = store_scored_history(risk_service.store(), datetime.now(UTC))
    assert frauds >= 20
    world.forget_setup()
    summary = handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)
    assert summary["outcome"] in ("candidate", "activated"), summary  # trained, published, registered


SCENARIOS: dict[str, Scenario] = {
    "RiskApiFunction": run_risk_api,
    "RiskChallengerFunction": run_risk_challenger,
    "RiskWeeklyFunction": run_risk_weekly,
    "RiskBulkScoringFunction": run_risk_bulk_scoring,
    "RiskAccountEventsFunction": run_risk_account_events,
}

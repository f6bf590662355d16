"""Risk scoring on the emulator (real boto3): velocity state, idempotent retries, an account takeover, the
bulk queue with a poison record and redelivery, labels and the admin block list.

The served artifacts are real `risk-model` and `risk-graph` versions trained by the production pipeline on
a small simulated world (tests/support/risk.py), published to S3 and validated by the registry.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import entity_key, payment_updates, window_total
from infra.runner.faults import _send
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import publish
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.events import sample_body
from tests.support.invoke import in_process
from tests.support.risk import built_risk

SHANGHAI = {"lat": 31.23, "lon": 121.47}
SAO_PAULO = {"lat": -23.55, "lon": -46.63}


@pytest.fixture(scope="module")
def risk_models(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    versions = {}
    for built in built_risk(tmp_path_factory.mktemp("risk")):
        manifest = publish(store, built)
        drain(stack, registry, built.name, versions=len(registry.versions(built.name)) + 1)
        registry.activate(built.name, manifest.version)
        versions[built.name] = manifest.version
    return versions


@pytest.fixture
def ids() -> dict[str, str]:
    """Identifiers of this test's own user, device, IP and merchant, so tests never share state."""
    tag = uuid.uuid4().hex[:8]
    return {"user_id": f"u-{tag}", "device_id": f"d-{tag}", "merchant_id": f"m-{tag}", "tag": tag}


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def login(ids: dict[str, str], when: datetime, device: str | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "event_type": "login",
        "user_id": ids["user_id"],
        "device_id": device or ids["device_id"],
        "ip": "203.0.113.7",
        "timestamp": stamp(when),
        "location": SHANGHAI,
        "success": True,
        **changes,
    }


def payment(ids: dict[str, str], number: int, when: datetime, **changes: Any) -> dict[str, Any]:
    sample = sample_body("risk/RiskApiFunction-Score.json")
    return {
        **sample,
        "transaction_id": f"t-{ids['tag']}-{number}",
        "user_id": ids["user_id"],
        "device_id": ids["device_id"],
        "merchant_id": ids["merchant_id"],
        "timestamp": stamp(when),
        **changes,
    }


def state(stack: Stack, key: str) -> dict[str, Any]:
    store = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"))
    states, _ = store.read([key])
    return states.get(key, {})


def test_scoring_updates_velocity_state_once_and_a_retry_gets_the_first_answer(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    gateway = gateway_for(stack)
    now = datetime.now(UTC)
    status, body = call(gateway, "POST", "/risk/events", login(ids, now - timedelta(minutes=10)), caller="checkout")
    assert (status, body["applied"]) == (200, True)

    first = payment(ids, 1, now - timedelta(minutes=5))
    status, scored = call(gateway, "POST", "/risk/score", first, caller="checkout")
    assert status == 200, scored
    assert set(scored) >= {"transaction_id", "score", "decision", "reasons", "model_version"}
    assert scored["model_version"] == risk_models["risk-model"]
    assert scored["graph_version"] == risk_models["risk-graph"]
    assert scored["decision"] in ("approve", "review", "decline") and 0 <= scored["score"] <= 1

    # The network retries the request: same answer, and the payment counts once.
    status, again = call(gateway, "POST", "/risk/score", first, caller="checkout")
    assert status == 200 and again["replayed"] is True
    assert {k: again[k] for k in ("score", "decision", "reasons")} == {
        k: scored[k] for k in ("score", "decision", "reasons")
    }
    user = state(stack, entity_key("user", ids["user_id"]))
    assert window_total(user, "n", "1h", now.timestamp()) == 1
    assert window_total(state(stack, entity_key("merchant", ids["merchant_id"])), "v", "24h", now.timestamp()) == 12.5

    # Another payment under the same id (reading its decision, or pre-claiming it) is a 409, counting nothing.
    status, refused = call(gateway, "POST", "/risk/score", {**first, "amount": 1.0}, caller="checkout")
    assert (status, refused["Code"]) == (409, "ConflictError") and scored["decision"] not in refused["Message"]
    assert window_total(state(stack, entity_key("user", ids["user_id"])), "n", "1h", now.timestamp()) == 1

    # A second payment sees the first in its velocity.
    status, _ = call(gateway, "POST", "/risk/score", payment(ids, 2, now), caller="checkout")
    assert status == 200
    assert window_total(state(stack, entity_key("user", ids["user_id"])), "n", "1h", now.timestamp()) == 2

    # An account event's id works the same way, through one transaction on the real API.
    event = {**login(ids, now - timedelta(minutes=1)), "event_id": f"{ids['user_id']}-login-1"}
    assert call(gateway, "POST", "/risk/events", event, caller="checkout") == (
        200,
        {"event_type": "login", "applied": True},
    )
    assert call(gateway, "POST", "/risk/events", event, caller="checkout") == (
        200,
        {"event_type": "login", "applied": False},
    )
    status, refused = call(gateway, "POST", "/risk/events", {**event, "success": False}, caller="checkout")
    assert (status, refused["Code"]) == (409, "ConflictError")


def test_an_account_takeover_is_stopped_while_the_users_own_traffic_is_approved(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    gateway = gateway_for(stack)
    now = datetime.now(UTC)
    # The user's own history: logins and small payments at home, on their device.
    for number, hours_ago in enumerate((30, 20, 6)):
        when = now - timedelta(hours=hours_ago)
        assert call(gateway, "POST", "/risk/events", login(ids, when), caller="checkout")[0] == 200
        status, own = call(
            gateway, "POST", "/risk/score", payment(ids, number, when + timedelta(minutes=2)), caller="checkout"
        )
        assert status == 200 and own["decision"] == "approve", own
    # Minutes later, a login from a new device on another continent, then a fast high-value payment.
    attacker = f"d-attacker-{ids['tag']}"
    ato_login = login(ids, now - timedelta(minutes=3), device=attacker, ip="198.51.100.23", location=SAO_PAULO)
    assert call(gateway, "POST", "/risk/events", ato_login, caller="checkout")[0] == 200
    stolen = payment(
        ids, 9, now, device_id=attacker, ip="198.51.100.23", location=SAO_PAULO, amount=900.0, merchant_id="m-electro"
    )
    status, verdict = call(gateway, "POST", "/risk/score", stolen, caller="checkout")
    assert status == 200
    assert verdict["decision"] in ("review", "decline"), verdict
    assert "impossible_travel_new_device" in [r["name"] for r in verdict["reasons"] if r["type"] == "rule"]


def test_labels_are_stored_on_the_scored_transaction(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    gateway = gateway_for(stack)
    scored = payment(ids, 1, datetime.now(UTC))
    assert call(gateway, "POST", "/risk/score", scored, caller="checkout")[0] == 200
    label = {"transaction_id": scored["transaction_id"], "is_fraud": True, "source": "chargeback"}
    assert call(gateway, "POST", "/risk/labels", label)[0] == 401  # labels train the next model: never anonymous
    assert call(gateway, "POST", "/risk/labels", label, caller="checkout")[0] == 403  # nor the checkout's
    status, body = call(gateway, "POST", "/risk/labels", label, caller="labels")
    assert (status, body["stored"]) == (200, True)
    assert call(gateway, "GET", f"/risk/transactions/{scored['transaction_id']}")[0] == 401
    status, shown = call(gateway, "GET", f"/risk/transactions/{scored['transaction_id']}", caller="operator")
    assert status == 200 and shown["label"] == {"is_fraud": True, "source": "chargeback"}
    # A label for a transaction that was never scored is refused: there is nothing to retrain on.
    status, body = call(gateway, "POST", "/risk/labels", {**label, "transaction_id": "t-never-seen"}, caller="labels")
    assert status == 404 and body["Code"] == "NotFoundError"


def test_a_blocked_device_is_declined_and_only_an_operator_can_block(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    gateway = gateway_for(stack)
    path = f"/risk/blocklist/device/{ids['device_id']}"
    assert call(gateway, "PUT", path, {"blocked": True})[0] == 401
    assert call(gateway, "PUT", path, {"blocked": True}, "wrong-key")[0] == 401  # an unknown key
    assert call(gateway, "PUT", path, {"blocked": True}, caller="checkout")[0] == 403
    assert call(gateway, "PUT", path, {"blocked": True, "reason": "chargeback ring"}, caller="operator")[0] == 200
    status, verdict = call(gateway, "POST", "/risk/score", payment(ids, 1, datetime.now(UTC)), caller="checkout")
    assert status == 200 and verdict["decision"] == "decline"
    assert verdict["reasons"][0]["name"] == "blocklist_device"
    assert call(gateway, "PUT", path, {"blocked": False}, ADMIN_KEY)[0] == 200
    status, verdict = call(gateway, "POST", "/risk/score", payment(ids, 2, datetime.now(UTC)), caller="checkout")
    assert "blocklist_device" not in [r["name"] for r in verdict["reasons"]]


def test_the_block_list_pages_through_what_is_blocked_and_why(stack: Stack) -> None:
    gateway = gateway_for(stack)
    tag = uuid.uuid4().hex[:8]
    blocked = {f"u-{tag}-{i}" for i in range(3)}
    for user in blocked:
        assert (
            call(gateway, "PUT", f"/risk/blocklist/user/{user}", {"blocked": True, "reason": "ring"}, ADMIN_KEY)[0]
            == 200
        )
    call(gateway, "PUT", f"/risk/blocklist/user/u-{tag}-0", {"blocked": False}, ADMIN_KEY)
    assert call(gateway, "GET", "/risk/blocklist")[0] == 401
    seen: list[dict[str, str]] = []
    cursor = ""
    while True:
        status, page = call(
            gateway, "GET", f"/risk/blocklist?limit=1{'&cursor=' + cursor if cursor else ''}", None, ADMIN_KEY
        )
        assert status == 200 and len(page["items"]) <= 1
        seen += page["items"]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    mine = [e for e in seen if e["id"].startswith(f"u-{tag}-")]
    assert sorted(e["id"] for e in mine) == sorted(blocked - {f"u-{tag}-0"})
    assert {(e["kind"], e["reason"]) for e in mine} == {("user", "ring")}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": -5}, "amount"),
        ({"ip": "not-an-ip"}, "ip"),
        ({"timestamp": "2026-11-27T10:00:00"}, "timestamp"),
        ({"location": {"lat": 123, "lon": 0}}, "location.lat"),
    ],
)
def test_bad_transactions_get_a_json_400_saying_what_is_wrong(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str], change: dict[str, Any], problem: str
) -> None:
    status, body = call(
        gateway_for(stack), "POST", "/risk/score", payment(ids, 1, datetime.now(UTC), **change), caller="checkout"
    )
    assert status == 400 and body["Code"] == "BadRequestError"
    assert problem in [d["field"] for d in body["Details"]]


def test_a_stale_transaction_is_refused_with_a_clear_400(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    old = payment(ids, 1, datetime.now(UTC) - timedelta(days=30))
    status, body = call(gateway_for(stack), "POST", "/risk/score", old, caller="checkout")
    assert status == 400 and "7 days" in body["Message"]


def _source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("RiskTransactionsQueue"))["QueueUrl"]
    return QueueSource(
        "RiskBulkScoringFunction", url, stack.arn("RiskTransactionsQueue"), batch_size=10, report_failures=True
    )


def _outcomes(stack: Stack) -> list[dict[str, Any]]:
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("RiskOutcomesQueue"))["QueueUrl"]
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_bulk_scoring_fails_only_the_poison_and_a_redelivery_changes_nothing(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str]
) -> None:
    _outcomes(stack)  # start from an empty outcomes queue
    sqs = aws.client("sqs")
    source = _source(stack)
    now = datetime.now(UTC)
    fine = payment(ids, 1, now - timedelta(minutes=1))
    over_limit = payment(ids, 2, now, amount=25_000.0)  # the hard limit declines it
    bodies = [json.dumps(fine), json.dumps(over_limit), '{"transaction_id": "t-poison"']
    sqs.send_message_batch(
        QueueUrl=source.queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )

    batch = source.receive_batch(threading.Event())
    kept = source.process(batch, in_process(stack))
    assert len(batch) == 3 and len(kept) == 1  # only the poison stays on the queue (then the DLQ)

    results = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"))
    assert results.result(over_limit["transaction_id"])["decision"] == "decline"
    assert results.result(fine["transaction_id"])["channel"] == "queue"
    outcomes = _outcomes(stack)
    assert [o["transaction_id"] for o in outcomes] == [over_limit["transaction_id"]]

    # The same two records arrive again (an at-least-once redelivery): nothing counts or is sent twice.
    sqs.send_message_batch(
        QueueUrl=source.queue_url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[:2])]
    )
    redelivered = source.receive_batch(threading.Event())
    kept = [m for m in redelivered if "t-poison" not in m["Body"]]
    assert source.process(kept, in_process(stack)) == set()
    assert _outcomes(stack) == []
    user = state(stack, entity_key("user", ids["user_id"]))
    assert window_total(user, "n", "1h", now.timestamp()) == 2


def test_a_label_flows_into_the_weekly_graph_rebuild(
    stack: Stack, risk_models: dict[str, str], ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from commerce_ai.artifacts.loader import ModelLoader
    from commerce_ai.risk.model import GRAPH_NAME, open_graph
    from commerce_ai.risk.pseudonyms import pseudonym
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event
    from model_build.risk.pseudonym_key import local_pseudonym_key

    gateway = gateway_for(stack)
    now = datetime.now(UTC)
    # Two accounts share one device (a ring's pattern); one of them turns out to be fraud.
    mule, partner = f"{ids['user_id']}-a", f"{ids['user_id']}-b"
    own_ip = "10." + ".".join(str(int(ids["tag"][i : i + 2], 16)) for i in (0, 2, 4))  # no other test's users
    for number, user in enumerate((mule, partner)):
        sent = payment(ids, number, now - timedelta(minutes=number), user_id=user, ip=own_ip)
        assert call(gateway, "POST", "/risk/score", sent, caller="checkout")[0] == 200
    label = {"transaction_id": f"t-{ids['tag']}-0", "is_fraud": True, "source": "chargeback"}
    assert call(gateway, "POST", "/risk/labels", label, ADMIN_KEY)[0] == 200

    from commerce_ai.risk import weekly as weekly_job

    monkeypatch.setattr(weekly_job, "MIN_GRAPH_PAYMENTS", 1)  # this emulator holds only the tests' payments
    weekly = stack.function("RiskWeeklyFunction")
    summary = in_process(stack)("RiskWeeklyFunction", scheduled_event(rule_arn(stack, weekly)))
    assert summary["outcome"] == "activated" and summary["labelled_fraud"] >= 1
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    assert registry.active_version(GRAPH_NAME) == summary["graph_version"] != risk_models[GRAPH_NAME]

    graph = ModelLoader(GRAPH_NAME, opener=open_graph, refresh_seconds=0).get().model
    # It keeps keyed pseudonyms of user, device and IP ids, under the key bootstrap put in SSM, never the ids
    key = local_pseudonym_key().encode()
    assert not any(raw in graph.model_dump_json() for raw in (ids["device_id"], mule, partner, own_ip))
    device = pseudonym(key, "device", ids["device_id"])
    assert graph.devices[device][0] == 2  # two accounts on the device
    assert graph.devices[device][1] > 0  # and a confirmed fraud through it
    assert graph.users[pseudonym(key, "user", partner)][1] == 1.0  # the partner's only neighbour is fraud
    # Serving picks the new snapshot up at its next pointer check (MODEL_REFRESH_SECONDS); a new container
    # stands in for that wait here. The partner's next payment is then scored with it.
    from commerce_ai.risk import service

    service.graph_loader.cache_clear()
    status, scored = call(
        gateway, "POST", "/risk/score", payment(ids, 7, now, user_id=partner, ip=own_ip), caller="checkout"
    )
    assert status == 200 and scored["graph_version"] == summary["graph_version"]


@pytest.mark.parametrize(("required_gain", "outcome"), [(1.0, "candidate"), (-1.0, "activated")])
def test_the_weekly_challenger_is_activated_only_when_it_beats_the_champion(
    stack: Stack,
    risk_models: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    required_gain: float,
    outcome: str,
) -> None:
    from commerce_ai.risk.model import MODEL_NAME
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event
    from model_build.risk import challenger
    from tests.support.risk import store_scored_history

    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    champion = registry.active_version(MODEL_NAME)
    results = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"))
    assert store_scored_history(results, datetime.now(UTC)) >= challenger.MIN_FRAUD
    # A gain no model can reach keeps the challenger a candidate; a negative one lets any challenger win.
    monkeypatch.setattr(challenger, "MIN_GAIN", required_gain)

    function = stack.function("RiskChallengerFunction")
    summary = in_process(stack)("RiskChallengerFunction", scheduled_event(rule_arn(stack, function)))

    assert summary["outcome"] == outcome, summary
    assert 0 < summary["challenger_pr_auc"] <= 1 and 0 < summary["champion_pr_auc"] <= 1
    assert registry.get_version(MODEL_NAME, summary["version"]).state in ("candidate", "active")
    assert registry.active_version(MODEL_NAME) == (champion if outcome == "candidate" else summary["version"])


def test_a_weekly_graph_from_too_few_payments_is_registered_but_not_activated(
    stack: Stack, risk_models: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from commerce_ai.risk import weekly as weekly_job
    from commerce_ai.risk.model import GRAPH_NAME

    monkeypatch.setattr(weekly_job, "MIN_GRAPH_PAYMENTS", 10**9)  # more than this emulator will ever hold
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event

    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    active = registry.active_version(GRAPH_NAME)
    weekly = stack.function("RiskWeeklyFunction")
    summary = in_process(stack)("RiskWeeklyFunction", scheduled_event(rule_arn(stack, weekly)))
    assert summary["outcome"] == "candidate"
    assert registry.active_version(GRAPH_NAME) == active  # the active snapshot keeps serving
    assert registry.get_version(GRAPH_NAME, summary["graph_version"]).state == "candidate"


def test_a_counter_update_whose_answer_was_lost_is_not_applied_twice_by_the_sdks_retry(stack: Stack) -> None:
    """Issue 18's campaign finding: a read timeout after an UpdateItem landed made the SDK send the ADD
    again, counting a payment twice. On the real API, each entity's update carries the transaction in its
    slot and the retry is refused by its condition."""
    shared = aws.client("dynamodb")
    ddb = boto3.client(
        "dynamodb",
        endpoint_url=shared.meta.endpoint_url,
        region_name=shared.meta.region_name,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}),
    )
    lost_answers: list[str] = []

    def land_then_time_out(request: Any, **_: Any) -> None:
        # Every first attempt of an UpdateItem reaches DynamoDB, and its answer never comes back.
        if b"UpdateItem" in request.headers.get("X-Amz-Target", b"") and request.body not in lost_answers:
            lost_answers.append(request.body)
            _send(request)
            raise ReadTimeoutError(endpoint_url=request.url)

    ddb.meta.events.register("before-send.dynamodb.UpdateItem", land_then_time_out)
    store = RiskStore(stack.physical_name("RiskStateTable"), stack.physical_name("RiskResultsTable"), dynamodb=ddb)
    tag = uuid.uuid4().hex[:8]
    keys = [f"user#u-{tag}", f"device#d-{tag}", "ip#10.9.8.7", f"merchant#m-{tag}"]
    now = datetime.now(UTC)
    try:
        states, _ = store.read(keys)
        updates = payment_updates(f"u-{tag}", f"d-{tag}", "10.9.8.7", f"m-{tag}", 12.5, now.timestamp(), 0, 0, states)
        assert store.claim_and_apply(f"t-{tag}", {"score": 0.1, "request_digest": "r"}, now, updates, states)
        # each entity's write landed, lost its answer and was retried (and so did the result's `applied` mark)
        assert len([body for body in lost_answers if b"RiskStateTable" in body]) == 4
        for key in (f"user#u-{tag}", f"merchant#m-{tag}"):
            assert window_total(state(stack, key), "n", "1h", now.timestamp()) == 1
        assert window_total(state(stack, f"merchant#m-{tag}"), "v", "1h", now.timestamp()) == 12.5
    finally:
        store._writers.shutdown()

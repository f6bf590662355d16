"""`commerce-ai up` in a subprocess, driven only from outside: HTTP to its gateway, boto3 to its AWS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.emulator import answers, free_port
from model_build import manifest_for
from tests.support.models import built_linear

# The first test also waits for `up`, which on a new machine fetches data and trains every capability.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
ROOT = Path(__file__).resolve().parents[2]
STACK = "commerce-ai"


@dataclass
class Running:
    process: subprocess.Popen[str]
    http: str
    aws: str
    state_dir: Path
    output: list[str] = field(default_factory=list)
    # GET /health as polled while `up` started: (status code, body), until the banner.
    health_during_startup: list[tuple[int, Any]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    @property
    def admin_key(self) -> str:
        return (self.state_dir / "admin-key").read_text().strip()


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "commerce-ai"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    aws_port = free_port()
    http_port = free_port()
    while http_port == aws_port:
        http_port = free_port()
    state_dir = tmp_path_factory.mktemp("state")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "ADMIN_API_KEY"}
    env["COMMERCE_AI_STATE_DIR"] = str(state_dir)
    # The clone's build cache (as `make run` uses it): models already built are published, not retrained.
    # Its entries are keyed by what built them and verified before use, so sharing it is safe.
    env.setdefault("COMMERCE_AI_BUILD_CACHE", str(ROOT / ".commerce-ai" / "build-cache"))
    process = subprocess.Popen(
        [*_console_script(), "--aws-port", str(aws_port), "up", "--http-port", str(http_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    up = Running(process, f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{aws_port}", state_dir)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            up.output.append(line)
            if "commerce-ai is up" in line:
                ready.set()

    def poll_health() -> None:
        while not ready.is_set() and process.poll() is None:
            try:
                response = requests.get(f"{up.http}/health", timeout=5)
                up.health_during_startup.append((response.status_code, response.json()))
            except requests.RequestException:
                pass  # not serving yet
            time.sleep(0.2)

    threading.Thread(target=pump, daemon=True).start()
    threading.Thread(target=poll_health, daemon=True).start()
    # On a new machine `up` first fetches Dominick's OJ (apt-get) and trains the pricing and risk models.
    if not ready.wait(600):
        stop(process)
        pytest.fail("commerce-ai up did not start:\n" + "".join(up.output))
    yield up
    stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C first, so `up` stops the emulator it started; kill only if it does not exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def publish_from_outside(up: Running, name: str, tmp_path: Path) -> str:
    """What a training pipeline on another machine does: upload the files, then the manifest."""
    built = built_linear(tmp_path, name=name)
    manifest = manifest_for(built)
    s3 = up.client("s3")
    bucket = f"{STACK}-artifacts-123456789012-us-east-1"
    for relative in manifest.files:
        s3.upload_file(str(tmp_path / relative), bucket, manifest.prefix() + relative)
    s3.put_object(Bucket=bucket, Key=manifest.prefix() + "manifest.json", Body=manifest.model_dump_json().encode())
    return manifest.version


def until(check: Any, timeout: float = 60.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def test_banner_says_what_runs_where(running: Running) -> None:
    banner = "".join(running.output)
    assert running.aws in banner and "started here (moto)" in banner
    for trigger in ("Api", "SQS", "Schedule"):
        assert trigger in banner
    assert running.admin_key in banner
    assert (running.state_dir / "admin-key").stat().st_mode & 0o077 == 0, "the key file is private"


def test_health_says_starting_until_every_model_is_active_and_seeding_is_done(running: Running) -> None:
    statuses = [(code, body["status"]) for code, body in running.health_during_startup]
    assert statuses, "GET /health was never answered while up started"
    assert set(statuses) <= {(503, "starting"), (200, "ok"), (200, "degraded")}
    first_ready = next((i for i, (code, _) in enumerate(statuses) if code == 200), len(statuses))
    assert all(code == 503 for code, _ in statuses[:first_ready]) and statuses[0] == (503, "starting")
    assert all(code == 200 for code, _ in statuses[first_ready:])  # ready stays ready
    waiting = {w for code, body in running.health_during_startup if code == 503 for w in body["waiting_for"]}
    assert waiting <= {"model pricing-demand", "model risk-model", "model risk-graph", "seeding"} and waiting
    report = requests.get(f"{running.http}/health", timeout=10)
    assert report.status_code == 200 and report.json()["status"] == "ok"


def test_up_says_where_each_model_came_from_and_records_its_stages(running: Running) -> None:
    banner = "".join(running.output)
    for model in ("pricing-demand", "risk-model", "risk-graph"):
        assert any(line.startswith(f"model       {model}") for line in running.output), banner
    startup = json.loads((running.state_dir / "startup.json").read_text())
    assert set(startup["models"]) == {"pricing-demand", "risk-model", "risk-graph"}
    assert set(startup["models"].values()) <= {"cached", "built"}
    stages = {(s["scope"], s["stage"]) for s in startup["stages"]}
    assert {("up", "local AWS"), ("up", "bootstrap"), ("up", "seeding")} <= stages
    assert startup["finished_at"].endswith("Z")


def test_uploaded_model_is_registered_and_activated_over_http(running: Running, tmp_path: Path) -> None:
    version = publish_from_outside(running, "e2e-scorer", tmp_path)

    def registered() -> Any:
        response = requests.get(f"{running.http}/models/e2e-scorer", timeout=10)
        return response.status_code == 200 and response.json()

    described = until(registered)
    assert [v["state"] for v in described["versions"]] == ["candidate"]

    url = f"{running.http}/models/e2e-scorer/activate"
    assert requests.post(url, json={"version": version}, timeout=10).status_code == 401
    response = requests.post(url, json={"version": version}, headers={"x-api-key": running.admin_key}, timeout=10)
    assert response.status_code == 200, response.text
    listed = requests.get(f"{running.http}/models", timeout=10).json()["models"]
    assert {"name": "e2e-scorer", "active_version": version}.items() <= listed[0].items()


def test_poison_message_sent_with_boto3_reaches_the_dlq(running: Running) -> None:
    sqs = running.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-ArtifactEventsQueue")["QueueUrl"]
    dlq = sqs.get_queue_url(QueueName=f"{STACK}-ArtifactEventsDLQ")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "1"})  # retries in seconds, not minutes
    # A receive already waiting (1 s long poll) took the old timeout with it; let it finish first.
    time.sleep(2.5)
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"not": "an s3 event"}))

    def dead_lettered() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])

    (message,) = until(dead_lettered, timeout=90)
    assert json.loads(message["Body"]) == {"not": "an s3 event"}


def test_bad_input_gets_a_json_4xx_never_a_500(running: Running) -> None:
    key = {"x-api-key": running.admin_key, "Content-Type": "application/json"}
    cases = [
        ("POST", "/models/e2e-scorer/activate", b'{"version":', key, 400),
        ("POST", "/models/e2e-scorer/activate", b'{"version": 7}', key, 400),
        ("POST", "/models/e2e-scorer/activate", b'{"version": "nope"}', key, 404),
        ("POST", "/models/e2e-scorer/activate", b"x" * 2_000_000, key, 413),
        ("GET", "/models/Not_A_Name", None, {}, 400),
        ("GET", "/models/never-registered", None, {}, 404),
        ("GET", "/no/such/route", None, {}, 404),
        ("DELETE", "/models", None, {}, 405),
    ]
    for method, path, body, headers, expected in cases:
        response = requests.request(method, running.http + path, data=body, headers=headers, timeout=10)
        assert response.status_code == expected, (method, path, response.text)
        error = response.json()
        assert error["Code"] and error["Message"], error


def test_health_reports_each_function_that_ran(running: Running) -> None:
    report = requests.get(f"{running.http}/health", timeout=10).json()
    functions = {f["function"]: f for f in report["functions"]}
    assert {f"{STACK}-RegistryApiFunction", f"{STACK}-ArtifactEventsFunction"} <= set(functions)
    assert functions[f"{STACK}-RegistryApiFunction"]["invocations"] >= 1


def test_a_competitor_price_sent_with_boto3_is_recorded(running: Running) -> None:
    sqs, ddb = running.client("sqs"), running.client("dynamodb")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-CompetitorPricesQueue")["QueueUrl"]
    sample = json.loads((ROOT / "events/pricing/competitor_price.json").read_text())
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({**sample, "sku": "oj-e2e-1"}))

    def recorded() -> list[dict[str, Any]]:
        return ddb.query(
            TableName=f"{STACK}-PricingTable",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "sku"},
            ExpressionAttributeValues={":s": {"S": "oj-e2e-1"}},
        )["Items"]

    items = until(recorded, timeout=30)
    assert sorted(i["item"]["S"] for i in items)[0] == "competitor#megamart"


def test_the_pricing_catalog_over_http(running: Running) -> None:
    url = f"{running.http}/pricing/skus/oj-e2e-2"
    assert requests.put(url, json={"price": 2.49, "cost": 1.79}, timeout=10).status_code == 401
    response = requests.put(
        url, json={"price": 2.49, "cost": 1.79}, headers={"x-api-key": running.admin_key}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert requests.get(f"{running.http}/pricing/prices/oj-e2e-2", timeout=10).json()["price"] == 2.49


def test_the_catalog_is_seeded_and_a_fired_tick_prices_it(running: Running) -> None:
    # `up` trained the demand model on Dominick's OJ, activated it and seeded the catalog from it.
    assert "pricing catalog: 913 SKU(s) added" in "".join(running.output)
    before = requests.get(f"{running.http}/pricing/prices/oj-2-1", timeout=10).json()
    assert before["price"] > before["cost"] > 0

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["COMMERCE_AI_STATE_DIR"] = str(running.state_dir)
    port = running.aws.rsplit(":", 1)[1]
    fired = subprocess.run(
        [*_console_script(), "--aws-port", port, "schedule", "fire", "RepricingFunction"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fired.returncode == 0, fired.stderr[-2000:]
    summary = json.loads(fired.stdout)
    assert summary["skus"] >= 913 and summary["failed"] == 0
    assert summary["applied"] + summary["kept"] + summary["blocked"] == summary["skus"]

    after = requests.get(f"{running.http}/pricing/prices/oj-2-1", timeout=10).json()
    decision = after["last_decision"]
    assert decision["tick"] == summary["tick"] and decision["model_version"] == summary["model_version"]
    assert decision["old_price"] == before["price"] and after["price"] == (decision.get("applied") or before["price"])
    history = requests.get(f"{running.http}/pricing/prices/oj-2-1/history", timeout=10).json()
    assert history["decisions"][0]["tick"] == summary["tick"]

    quoted = requests.post(
        f"{running.http}/pricing/quote",
        json={"sku": "oj-2-1", "prices": [after["price"], after["price"] * 1.05, 1000.0]},
        timeout=30,
    )
    assert quoted.status_code == 200, quoted.text
    low, high, absurd = quoted.json()["quotes"]
    assert low["units"] >= high["units"] > 0  # the model is monotone in own price
    assert absurd["extrapolated"] is True and isinstance(low["extrapolated"], bool), "OJ never sold at 1,000"

    dry = requests.post(
        f"{running.http}/pricing/reprice",
        json={"skus": ["oj-2-1"], "dry_run": True},
        headers={"x-api-key": running.admin_key},
        timeout=30,
    )
    assert dry.status_code == 200 and dry.json()["decisions"][0]["sku"] == "oj-2-1"

    # The whole catalog on request: queued (202), run by RepricingFunction from its queue, status over HTTP.
    queued = requests.post(f"{running.http}/pricing/reprice", headers={"x-api-key": running.admin_key}, timeout=30)
    assert queued.status_code == 202, queued.text
    status_url = f"{running.http}{queued.json()['status_url']}"

    def finished() -> dict[str, Any] | None:
        status = requests.get(status_url, timeout=10).json()
        return status if status["state"] not in ("queued", "running") else None

    done = until(finished, timeout=300)
    assert done["state"] == "done" and done["summary"]["skus"] >= 913 and done["summary"]["failed"] == 0
    ticks = requests.get(f"{running.http}/pricing/ticks?limit=10", timeout=10).json()["ticks"]
    assert {summary["tick"], done["tick"]} <= {t["tick"] for t in ticks}, "the fired tick is recorded too"


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
        response = requests.post(f"{running.http}{path}", json=body, timeout=30)
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


def test_ctrl_c_stops_everything(running: Running) -> None:
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=30) == 0
    assert "stopped" in "".join(running.output[-3:])
    assert not answers(running.aws), "the emulator started by `up` is stopped with it"

"""The stack as a whole: banner, JSON errors, health, Ctrl-C."""

from __future__ import annotations

import importlib
import json
import signal

import pytest
import requests

import model_build
from infra.emulator import answers
from tests.e2e.conftest import STACK, Running

# The first test also waits for `up`, which on a new machine fetches data and trains every capability.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
# Every model some capability builds: what `up` waits for and reports (found from the folders, as `up` does).
MODELS = {
    model
    for name in model_build.CAPABILITIES
    for model in importlib.import_module(model_build.CAPABILITIES[name]).MODELS
}


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
    assert waiting <= {f"model {m}" for m in MODELS} | {"seeding"} and waiting
    report = requests.get(f"{running.http}/health", timeout=10)
    assert report.status_code == 200 and report.json()["status"] == "ok"


def test_up_says_where_each_model_came_from_and_records_its_stages(running: Running) -> None:
    banner = "".join(running.output)
    for model in sorted(MODELS):
        assert any(line.startswith(f"model       {model}") for line in running.output), banner
    startup = json.loads((running.state_dir / "startup.json").read_text())
    assert set(startup["models"]) == MODELS
    assert set(startup["models"].values()) <= {"cached", "built"}
    stages = {(s["scope"], s["stage"]) for s in startup["stages"]}
    assert {("up", "local AWS"), ("up", "bootstrap"), ("up", "seeding")} <= stages
    assert startup["finished_at"].endswith("Z")


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


def test_ctrl_c_stops_everything(running: Running) -> None:
    running.process.send_signal(signal.SIGINT)
    assert running.process.wait(timeout=30) == 0
    assert "stopped" in "".join(running.output[-3:])
    assert not answers(running.aws), "the emulator started by `up` is stopped with it"

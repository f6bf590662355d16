"""The experiments HTTP API (functions/experiments/app.py) through Chalice's test client, over in-memory
DynamoDB: admin only, JSON errors naming the problem, 409 on concurrent changes, paged lists, results."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.config import settings
from commerce_ai.experiments import service, stats
from commerce_ai.experiments.contract import ArmView, ExperimentDetail, ExperimentView
from commerce_ai.experiments.counting import apply_events
from commerce_ai.experiments.store import ExperimentStore
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.template import ROOT, Stack
from tests.unit.experiments.conftest import NOW, body
from tests.unit.experiments.test_counting import event, impression
from tests.unit.fakes import FakeDynamoDB, FakeSSMProvider

ADMIN_KEY = "unit-admin-key-0123456789"
KEY_PARAMETER = "/commerce-ai/admin-api-key"
ADMIN = {"Content-Type": "application/json", "x-api-key": ADMIN_KEY}


@dataclass
class Api:
    client: Any
    store: ExperimentStore
    ddb: FakeDynamoDB

    def call(self, method: str, path: str, payload: Any = None, headers: dict[str, str] | None = None) -> Any:
        raw = payload if isinstance(payload, (bytes, type(None))) else json.dumps(payload).encode()
        response = getattr(self.client.http, method.lower())(
            path, headers=ADMIN if headers is None else headers, body=raw
        )
        return response

    def json(self, method: str, path: str, payload: Any = None, status: int = 200) -> Any:
        response = self.call(method, path, payload)
        assert response.status_code == status, response.body
        return json.loads(response.body)


def _app_module(logical_id: str = "ExperimentsApiFunction") -> Any:
    fn = Stack().function(logical_id)
    return sys.modules[load_handler(fn.code_uri, fn.module, "__name__")]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, ddb: FakeDynamoDB, store: ExperimentStore) -> Iterator[Api]:
    monkeypatch.setenv("ADMIN_API_KEY_PARAMETER", KEY_PARAMETER)
    monkeypatch.setattr(http, "_ssm_provider", FakeSSMProvider({KEY_PARAMETER: ADMIN_KEY}))
    settings.cache_clear()
    with Client(_app_module().app) as client:
        yield Api(client, store, ddb)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.body
    found: dict[str, Any] = json.loads(response.body)
    assert found["Code"] == code and found["Message"]
    return found


def test_create_then_read_with_empty_results(api: Api) -> None:
    created = api.json("PUT", "/experiments/ranker-test", body(), status=201)
    assert created["revision"] == 1 and created["status"] == "running"
    assert created["created_at"].endswith("Z")
    described = api.json("GET", "/experiments/ranker-test")
    assert described["results"]["sample_size_reached"] is False
    control, treatment = described["results"]["arms"]
    assert control["users"] == 0 and control["click_through"] == {"rate": None, "ci95": None}
    assert treatment["vs_control"]["click_through"]["p_value"] is None


@pytest.mark.parametrize(
    "headers", [{"Content-Type": "application/json"}, {"Content-Type": "application/json", "x-api-key": "wrong"}]
)
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/experiments"), ("GET", "/experiments/x"), ("PUT", "/experiments/x")]
)
def test_every_route_needs_the_admin_key(api: Api, headers: dict[str, str], method: str, path: str) -> None:
    response = api.call(method, path, body(), headers=headers)
    assert response.status_code == (401 if "x-api-key" not in headers else 403)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body(baseline_rate="0.1"), "baseline_rate"),
        (
            body(arms=[{"name": "a", "variant": "x", "weight": "50"}, {"name": "b", "variant": "y", "weight": 50}]),
            "arms.0.weight",
        ),
        ({"status": "paused"}, "status"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(api: Api, payload: dict[str, Any], field: str) -> None:
    found = error(api.call("PUT", "/experiments/ranker-test", payload), 400, "BadRequestError")
    assert any(d["field"] == field for d in found["Details"]), found


def test_other_bad_requests_are_4xx_json(api: Api) -> None:
    error(api.call("PUT", "/experiments/Bad_Name", body()), 400, "BadRequestError")
    error(api.call("PUT", "/experiments/ranker-test", b"{not json"), 400, "BadRequestError")
    error(api.call("PUT", "/experiments/ranker-test", None), 400, "BadRequestError")
    error(api.call("PUT", "/experiments/ranker-test", {"status": "stopped"}), 400, "BadRequestError")  # no plan
    error(api.call("GET", "/experiments/no-such-test"), 404, "NotFoundError")
    error(api.call("GET", "/experiments?limit=ten"), 400, "BadRequestError")
    error(api.call("GET", "/experiments?limit=0"), 400, "BadRequestError")
    error(api.call("GET", "/experiments?cursor=nonsense"), 400, "BadRequestError")
    text = api.call("PUT", "/experiments/ranker-test", body(), headers={**ADMIN, "Content-Type": "text/plain"})
    assert text.status_code == 415


def test_change_weights_and_stop(api: Api) -> None:
    api.json("PUT", "/experiments/ranker-test", body(), status=201)
    arms = body()["arms"]
    assert isinstance(arms, list)
    changed = api.json(
        "PUT", "/experiments/ranker-test", {"arms": [{**arms[0], "weight": 90}, {**arms[1], "weight": 10}]}
    )
    assert [a["share"] for a in changed["arms"]] == [0.9, 0.1] and changed["revision"] == 2
    stopped = api.json("PUT", "/experiments/ranker-test", {"status": "stopped"})
    assert stopped["status"] == "stopped" and stopped["stopped_at"].endswith("Z")


def test_a_stale_revision_and_a_concurrent_write_are_409(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.json("PUT", "/experiments/ranker-test", body(), status=201)
    error(api.call("PUT", "/experiments/ranker-test", {"status": "stopped", "revision": 0}), 409, "ConflictError")
    error(api.call("PUT", "/experiments/ranker-test", body(revision=0)), 409, "ConflictError")
    # Another admin's change lands between our read and our write: ours is refused, not silently lost.
    served = service.store()
    original = served.get

    def read_then_someone_writes(name: str) -> Any:
        found = original(name)
        assert found is not None
        api.store.put(found.model_copy(update={"revision": 7}), found.revision)
        return found

    monkeypatch.setattr(served, "get", read_then_someone_writes)
    error(api.call("PUT", "/experiments/ranker-test", {"status": "stopped"}), 409, "ConflictError")


def test_list_pages_with_a_cursor(api: Api) -> None:
    for name in ("a-test", "b-test", "c-test"):
        api.json("PUT", f"/experiments/{name}", body(), status=201)
    first = api.json("GET", "/experiments?limit=2")
    assert [e["name"] for e in first["items"]] == ["a-test", "b-test"] and first["next_cursor"]
    second = api.json("GET", f"/experiments?limit=2&cursor={first['next_cursor']}")
    assert [e["name"] for e in second["items"]] == ["c-test"] and second["next_cursor"] is None


def test_results_report_rates_differences_and_the_plan(api: Api) -> None:
    api.json("PUT", "/experiments/ranker-test", body(), status=201)
    events = []
    for i in range(200):
        arm = "control" if i % 2 else "treatment"
        events.append(impression(f"u-{i}", arm))
        if i % 10 == 0 or (arm == "treatment" and i % 4 == 0):
            events.append(event("click", f"u-{i}", NOW + timedelta(minutes=1)))
    apply_events(events, api.store, now=NOW)
    arms = {a["arm"]: a for a in api.json("GET", "/experiments/ranker-test")["results"]["arms"]}
    control, treatment = arms["control"], arms["treatment"]
    assert (control["users"], control["clickers"]) == (100, 0)  # odd i: only multiples of 10 click (none odd)
    assert (treatment["users"], treatment["clickers"]) == (100, 60)
    assert treatment["click_through"]["rate"] == 0.6
    assert treatment["click_through"] == stats.wilson(60, 100).as_json()
    diff = treatment["vs_control"]["click_through"]
    assert diff["difference"] == 0.6 and diff["significant"] is True and diff["p_value"] < 1e-6
    assert treatment["planned_users"] == stats.planned_users(0.1, 0.02)[1] and not treatment["sample_size_reached"]


def test_the_sample_events_run_through_the_handlers(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    events_dir = ROOT / "events" / "experiments"
    put = json.loads((events_dir / "ExperimentsApiFunction-PutExperiment.json").read_text())
    put["headers"]["x-api-key"] = ADMIN_KEY
    handler = _app_module().app
    context = LambdaContext("commerce-ai-ExperimentsApiFunction")
    created = handler(put, context)
    assert created["statusCode"] == 201, created
    listed = handler(
        json.loads((events_dir / "ExperimentsApiFunction-ListExperiments.json").read_text())
        | {"headers": put["headers"]},
        context,
    )
    assert json.loads(listed["body"])["items"][0]["name"] == "demand-model-test"
    sqs = json.loads((events_dir / "ExperimentEventsFunction-BehaviourEventQueued.json").read_text())
    assert _app_module("ExperimentEventsFunction").handler(sqs, context) == {"batchItemFailures": []}
    got = json.loads((events_dir / "ExperimentsApiFunction-GetExperiment.json").read_text()) | {
        "headers": put["headers"]
    }
    arms = {a["arm"]: a for a in json.loads(handler(got, context)["body"])["results"]["arms"]}
    assert (arms["challenger"]["users"], arms["challenger"]["clickers"], arms["challenger"]["converters"]) == (1, 1, 1)


def test_a_poison_record_fails_alone(api: Api) -> None:
    sqs = json.loads((ROOT / "events/experiments/ExperimentEventsFunction-BehaviourEventQueued.json").read_text())
    sqs["Records"][1]["body"] = json.dumps({"event_type": "click"})
    sqs["Records"][2]["body"] = "{not json"
    result = _app_module("ExperimentEventsFunction").handler(sqs, LambdaContext("commerce-ai-ExperimentEventsFunction"))
    ids = [r["messageId"] for r in sqs["Records"]]
    assert result == {"batchItemFailures": [{"itemIdentifier": ids[1]}, {"itemIdentifier": ids[2]}]}


def test_the_answers_are_the_contract_models_every_field_present_and_rounded(api: Api) -> None:
    created = api.json("PUT", "/experiments/ranker-test", body(), status=201)
    assert set(created) == set(ExperimentView.model_fields)
    assert created["stopped_at"] is None and created["description"] is None
    assert created["arms"][0]["variant"] is None and set(created["arms"][0]) == set(ArmView.model_fields)
    events = [impression(f"u-{i}", "control" if i % 3 else "treatment") for i in range(30)]
    events += [event("click", f"u-{i}", NOW + timedelta(minutes=1)) for i in range(0, 30, 7)]
    apply_events(events, api.store, now=NOW)
    described = api.json("GET", "/experiments/ranker-test")
    assert set(described) == set(ExperimentDetail.model_fields)
    assert described["results"]["computed_at"].endswith("Z")
    treatment = next(a for a in described["results"]["arms"] if not a["control"])
    numbers = [treatment["click_through"]["rate"], *treatment["click_through"]["ci95"]]
    numbers += [v for k, v in treatment["vs_control"]["click_through"].items() if k in ("difference", "p_value")]
    assert all(isinstance(n, float) and round(n, 6) == n for n in numbers), numbers
    ExperimentDetail.model_validate(described)


def test_a_name_outside_the_pattern_is_a_400_naming_it(api: Api) -> None:
    found = error(api.call("GET", "/experiments/Bad_Name"), 400, "BadRequestError")
    assert [d["field"] for d in found["Details"]] == ["name"]

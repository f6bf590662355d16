"""Experiments on the emulator (real boto3 against moto, the template bootstrapped): the admin API through
the local gateway, behaviour events through ExperimentEventsQueue and its function, counted once when
delivered twice, and the results reported per arm."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.experiments import service
from commerce_ai.experiments.serving import Definitions, arm_of
from commerce_ai.experiments.store import ExperimentStore
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, gateway_for
from tests.support.invoke import in_process

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_definitions() -> None:
    """Handlers run in this process: each test starts with a fresh container's caches."""
    for cached in (service.store, service.definitions):
        cached.cache_clear()


@pytest.fixture
def name() -> str:
    return f"it-exp-{uuid.uuid4().hex[:8]}"


def definition(**changes: Any) -> dict[str, Any]:
    return {
        "arms": [
            {"name": "control", "variant": "classic", "weight": 50},
            {"name": "treatment", "variant": "new-ranking", "weight": 50},
        ],
        "control": "control",
        "primary_metric": "click_through",
        "baseline_rate": 0.1,
        "minimum_detectable_effect": 0.05,
        **changes,
    }


def behaviour(event_id: str, kind: str, user: str, at: datetime, **fields: Any) -> str:
    body: dict[str, Any] = {
        "event_id": event_id,
        "user_id": user,
        "session_id": "s-1",
        "event_type": kind,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "item_id": "item-1",
        **fields,
    }
    return json.dumps(body)


def source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("ExperimentEventsQueue"))["QueueUrl"]
    return QueueSource(
        "ExperimentEventsFunction", url, stack.arn("ExperimentEventsQueue"), batch_size=10, report_failures=True
    )


def deliver(stack: Stack, bodies: list[str]) -> set[str]:
    """Send `bodies` to the queue and run the function over them; the ids of the records it failed."""
    queue = source(stack)
    for start in range(0, len(bodies), 10):
        aws.client("sqs").send_message_batch(
            QueueUrl=queue.queue_url,
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
        )
    failed: set[str] = set()
    received = 0
    while received < len(bodies):
        batch = queue.receive_batch(threading.Event())
        assert batch, f"only {received} of {len(bodies)} records arrived"
        received += len(batch)
        failed |= queue.process(batch, in_process(stack))
    return failed


def test_define_count_twice_once_and_report(stack: Stack, name: str) -> None:
    gateway = gateway_for(stack)
    # Given an experiment created over HTTP (and a conflicting stale write refused),
    status, created = call(gateway, "PUT", f"/experiments/{name}", definition(), key=ADMIN_KEY)
    assert status == 201, created
    status, _ = call(gateway, "PUT", f"/experiments/{name}", {"status": "stopped", "revision": 0}, key=ADMIN_KEY)
    assert status == 409
    status, refused = call(gateway, "PUT", f"/experiments/{name}", definition(baseline_rate="0.1"), key=ADMIN_KEY)
    assert status == 400 and refused["Details"][0]["field"].startswith("baseline_rate")
    assert call(gateway, "GET", f"/experiments/{name}")[0] == 401

    # and users assigned by the serving API, whose impressions and clicks arrive on the queue,
    experiment = Definitions(ExperimentStore(stack.physical_name("ExperimentsTable"))).get(name)
    assert experiment is not None
    now = datetime.now(UTC)
    users = [f"u-{i}" for i in range(24)]
    arms = {u: arm_of(experiment, u).name for u in users}
    bodies = [
        behaviour(
            f"{name}-imp-{u}",
            "impression",
            u,
            now,
            item_ids=["item-1"],
            properties={"experiment": name, "arm": arms[u]},
        )
        for u in users
    ]
    clickers = users[::3]
    bodies += [behaviour(f"{name}-click-{u}", "click", u, now + timedelta(seconds=5)) for u in clickers]
    bodies += [behaviour(f"{name}-buy-{users[0]}", "purchase", users[0], now + timedelta(seconds=9))]
    bodies.append('{"event_type": "click"}')  # poison: fails alone
    # when they are delivered, and then all delivered again (at least once),
    failed = deliver(stack, bodies)
    assert len(failed) == 1
    assert deliver(stack, bodies[:-1]) == set()

    # then each is counted once, per arm, and the report says so.
    status, described = call(gateway, "GET", f"/experiments/{name}", key=ADMIN_KEY)
    assert status == 200, described
    results = {a["arm"]: a for a in described["results"]["arms"]}
    for arm in ("control", "treatment"):
        mine = [u for u in users if arms[u] == arm]
        assert results[arm]["users"] == len(mine) == results[arm]["exposures"]
        assert results[arm]["clickers"] == len([u for u in clickers if arms[u] == arm])
    assert sum(results[a]["converters"] for a in results) == 1
    assert results["treatment"]["vs_control"]["click_through"]["p_value"] is not None
    assert described["results"]["sample_size_reached"] is False

    # The list shows it; stopping it is recorded and later events no longer count.
    status, listed = call(gateway, "GET", "/experiments?limit=100", key=ADMIN_KEY)
    assert status == 200 and name in [e["name"] for e in listed["items"]]
    status, stopped = call(gateway, "PUT", f"/experiments/{name}", {"status": "stopped"}, key=ADMIN_KEY)
    assert status == 200 and stopped["stopped_at"]
    service.definitions.cache_clear()
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert (
        deliver(
            stack,
            [
                behaviour(
                    f"{name}-late",
                    "impression",
                    "u-late",
                    later,
                    item_ids=["item-1"],
                    properties={"experiment": name, "arm": "control"},
                )
            ],
        )
        == set()
    )
    status, after = call(gateway, "GET", f"/experiments/{name}", key=ADMIN_KEY)
    assert {a["arm"]: a["users"] for a in after["results"]["arms"]} == {
        arm: results[arm]["users"] for arm in ("control", "treatment")
    }

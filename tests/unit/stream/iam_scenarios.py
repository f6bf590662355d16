"""The behaviour-event stream's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice.test import Client

from tests.support.events import sample
from tests.unit.iam import STACK, Scenario, World, configure


def run_behaviour_events_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "BehaviourEventsApiFunction", tmp_path)
    env = STACK.function("BehaviourEventsApiFunction").environment
    world.ssm.values[env["INGEST_API_KEY_PARAMETER"]] = "ingest"
    world.ssm.values[env["ADMIN_API_KEY_PARAMETER"]] = "admin"
    world.forget_setup()
    body = sample("stream/BehaviourEventsApiFunction-PostEvents.json")["body"].encode()
    with Client(handler) as client:
        for key in ("ingest", "admin"):  # the admin key is read only when the ingest key does not match
            response = client.http.post(
                "/events", headers={"Content-Type": "application/json", "x-api-key": key}, body=body
            )
            assert response.status_code == 202, response.body
    assert len(world.aws.sns.calls) == 2


def run_behaviour_events_queue(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "BehaviourEventsQueueFunction", tmp_path)
    world.forget_setup()
    queued = sample("stream/BehaviourEventsQueueFunction-EventQueued.json")
    queued["Records"].append({**queued["Records"][0], "messageId": "poison", "body": "{not json"})
    result = handler(queued, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert len(world.aws.sns.calls) == 2


def run_behaviour_archive(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "BehaviourArchiveFunction", tmp_path)
    world.forget_setup()
    result = handler(sample("stream/BehaviourArchiveFunction-EventsToArchive.json"), context)
    assert result == {"batchItemFailures": []}
    bucket = STACK.physical_name("BehaviourEventsBucket")
    assert [k for b, k in world.aws.s3.objects if b == bucket and k.startswith("events/dt=2026-12-05/")]


SCENARIOS: dict[str, Scenario] = {
    "BehaviourEventsApiFunction": run_behaviour_events_api,
    "BehaviourEventsQueueFunction": run_behaviour_events_queue,
    "BehaviourArchiveFunction": run_behaviour_archive,
}

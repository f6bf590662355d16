"""Experiments from outside: an experiment defined over HTTP counts impressions and clicks sent to its queue."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import STACK, Running, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_an_experiment_counts_impressions_and_clicks_sent_with_boto3(running: Running) -> None:
    admin = {"x-api-key": running.admin_key, "Content-Type": "application/json"}
    body = {
        "arms": [{"name": "control", "variant": "a", "weight": 1}, {"name": "b", "variant": "b", "weight": 1}],
        "control": "control",
        "primary_metric": "click_through",
        "baseline_rate": 0.1,
        "minimum_detectable_effect": 0.05,
    }
    created = requests.put(f"{running.http}/experiments/e2e-exp", json=body, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    bad = requests.put(f"{running.http}/experiments/e2e-exp", json={"baseline_rate": "0.2"}, headers=admin, timeout=10)
    assert bad.status_code == 400 and bad.json()["Code"] == "BadRequestError"
    sqs = running.client("sqs")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-ExperimentEventsQueue")["QueueUrl"]
    now = datetime.now(UTC)
    common = {"user_id": "u-e2e-exp", "session_id": "s-1", "item_id": "item-1"}
    impression = {
        **common,
        "event_id": "e2e-exp-imp",
        "event_type": "impression",
        "timestamp": now.isoformat(),
        "item_ids": ["item-1"],
        "properties": {"experiment": "e2e-exp", "arm": "b"},
    }
    click = {
        **common,
        "event_id": "e2e-exp-click",
        "event_type": "click",
        "timestamp": (now + timedelta(seconds=1)).isoformat(),
    }
    for event in (impression, click, impression):  # the impression twice: counted once
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))

    def arm_b() -> dict[str, Any] | None:
        report = requests.get(f"{running.http}/experiments/e2e-exp", headers=admin, timeout=10).json()
        arms = {a["arm"]: a for a in report["results"]["arms"]}
        return arms["b"] if arms["b"]["clickers"] == 1 else None

    counted = until(arm_b)
    time.sleep(2)  # let the redelivered impression be processed too
    counted = until(arm_b)
    assert (counted["users"], counted["exposures"], counted["clickers"]) == (1, 1, 1)

"""Pricing from outside: competitor prices over SQS, the catalog API, the seeded OJ catalog repriced."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest
import requests

from infra.template import ROOT
from tests.e2e.conftest import STACK, Running, console_script, until
from tests.support.events import sample_body

# The first test also waits for `up`, which on a new machine fetches data and trains every capability.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def test_a_competitor_price_sent_with_boto3_is_recorded(running: Running) -> None:
    sqs, ddb = running.client("sqs"), running.client("dynamodb")
    queue = sqs.get_queue_url(QueueName=f"{STACK}-CompetitorPricesQueue")["QueueUrl"]
    sample = sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json")
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
    shown = requests.get(f"{running.http}/pricing/prices/oj-e2e-2", timeout=10).json()
    assert shown["price"] == 2.49 and "cost" not in shown, "a shopper sees the price, never its cost"


def test_the_catalog_is_seeded_and_a_fired_tick_prices_it(running: Running) -> None:
    # `up` trained the demand model on Dominick's OJ, activated it and seeded the catalog from it.
    assert "pricing catalog: 913 SKU(s) added" in "".join(running.output)
    operator = running.headers("operator")
    before = requests.get(f"{running.http}/pricing/skus/oj-2-1", headers=operator, timeout=10).json()
    assert before["price"] > before["cost"] > 0

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["COMMERCE_AI_STATE_DIR"] = str(running.state_dir)
    port = running.aws.rsplit(":", 1)[1]
    fired = subprocess.run(
        [*console_script(), "--aws-port", port, "schedule", "fire", "RepricingFunction"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fired.returncode == 0, fired.stderr[-2000:]
    plan = json.loads(fired.stdout)
    assert plan["skus"] >= 913 and plan["chunks"] >= 2, "planned, its chunks queued for RepriceChunkFunction"

    def counted() -> dict[str, Any] | None:  # the runner's queue worker runs the chunks
        status = requests.get(f"{running.http}/pricing/ticks/{plan['tick']}", headers=operator, timeout=10).json()
        return status if status["state"] != "running" else None

    tick_status = until(counted, timeout=300)
    assert tick_status["state"] == "done" and tick_status["chunks_done"] == plan["chunks"], tick_status
    summary = tick_status["summary"]
    assert summary["skus"] >= 913 and summary["failed"] == 0
    assert summary["applied"] + summary["kept"] + summary["blocked"] == summary["skus"]

    after = requests.get(f"{running.http}/pricing/skus/oj-2-1", headers=operator, timeout=10).json()
    decision = after["last_decision"]
    history = requests.get(f"{running.http}/pricing/prices/oj-2-1/history", headers=operator, timeout=10).json()
    assert history["full_log"].startswith("s3://") and "/decisions/dt=" in history["full_log"]
    if decision is not None and decision["tick"] == summary["tick"]:  # changed or blocked: recorded per SKU
        assert decision["model_version"] == summary["model_version"] and decision["old_price"] == before["price"]
        assert after["price"] == (decision.get("applied") or before["price"])
        assert history["items"][0]["tick"] == summary["tick"]
    else:  # kept: only in the tick's S3 log
        assert after["price"] == before["price"]

    quoted = requests.post(
        f"{running.http}/pricing/quote",
        json={"sku": "oj-2-1", "prices": [after["price"], after["price"] * 1.05, 1000.0]},
        headers=operator,
        timeout=30,
    )
    assert quoted.status_code == 200, quoted.text
    low, high, absurd = quoted.json()["quotes"]
    assert low["units"] >= high["units"] > 0  # the model is monotone in own price
    assert absurd["extrapolated"] is True and isinstance(low["extrapolated"], bool), "OJ never sold at 1,000"
    assert absurd["units"] is None and absurd["note"].startswith("no estimate")

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
        status = requests.get(status_url, headers=operator, timeout=10).json()
        return status if status["state"] not in ("queued", "running") else None

    done = until(finished, timeout=300)
    assert done["state"] == "done" and done["summary"]["skus"] >= 913 and done["summary"]["failed"] == 0
    ticks = requests.get(f"{running.http}/pricing/ticks?limit=10", headers=operator, timeout=10).json()["items"]
    assert {summary["tick"], done["tick"]} <= {t["tick"] for t in ticks}, "the fired tick is recorded too"

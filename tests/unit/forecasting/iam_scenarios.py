"""Forecasting's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.forecasting import service
from commerce_ai.forecasting.jobs import JobLog
from commerce_ai.forecasting.store import FORECAST, HISTORY, ForecastingStore
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from tests.support.events import sample
from tests.support.forecasting import (
    built_forecasting_allocation,
    built_forecasting_demand,
    daily_sales_csv,
    sales_history,
)
from tests.unit.fakes import sqs_message
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (service.forecast_loader, service.allocation_loader)


def serve_forecasting_demand(world: World) -> None:
    world.serve(world.built("forecasting-demand", lambda d: [built_forecasting_demand(d)]))


def seed_sku(world: World, sku: str = "oj-2-1") -> None:
    """A SKU with a history and a forecast, as the seed leaves it."""
    store = ForecastingStore(STACK.physical_name("ForecastingTable"), world.aws.dynamodb)
    history = sales_history(sku)
    loaded = service.forecast_loader().get()
    forecast = service.forecast_histories([history], loaded, datetime.now(UTC))[0]
    store.put_many([(sku, HISTORY, history), (sku, FORECAST, forecast)])


def run_forecasting_admin(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "ForecastingAdminFunction", tmp_path)
    world.ssm.values[STACK.function("ForecastingAdminFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    body = b'{"on_hand": 120, "lead_time_periods": 1, "review_periods": 1, "service_level": 0.95}'
    with Client(handler) as client:
        assert client.http.put("/inventory/oj-2-1", headers=admin, body=body).status_code == 200


def run_forecasting_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "ForecastingApiFunction", tmp_path)
    world.ssm.values[STACK.function("ForecastingApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    serve_forecasting_demand(world)
    world.serve(world.built("forecasting-allocation", lambda d: [built_forecasting_allocation(d)]))
    seed_sku(world)
    seed_sku(world, "oj-5-1")
    run_forecasting_admin(world, monkeypatch, tmp_path / "admin")  # the SKU's inventory settings
    handler, _ = configure(monkeypatch, "ForecastingApiFunction", tmp_path)
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        forecast = client.http.get("/forecasts/oj-2-1")
        assert forecast.status_code == 200, forecast.body
        assert len(json.loads(forecast.body)["periods"]) == 8
        plot = client.http.get("/forecasts/oj-2-1/plot")
        assert plot.status_code == 200 and plot.body.startswith(b"<svg"), plot.body[:200]
        png = client.http.get("/forecasts/oj-2-1/plot", headers={"Accept": "image/png"})
        assert png.status_code == 200 and png.body[:4] == b"\x89PNG", png.body[:200]
        plan = b'{"sku": "oj-2-1", "prices": [1.99, 1.99], "promotions": [1, 1]}'
        what_if = client.http.post("/forecasts/what-if", headers={"Content-Type": "application/json"}, body=plan)
        assert what_if.status_code == 200, what_if.body
        policy = client.http.get("/inventory/oj-2-1/policy", headers=admin)
        assert policy.status_code == 200, policy.body
        stores = b'{"supply": 40, "skus": ["oj-2-1", "oj-5-1"]}'
        allocation = client.http.post("/inventory/allocations", headers=admin, body=stores)
        assert allocation.status_code == 200, allocation.body
        assert client.http.get("/forecasts/jobs/daily-19900101t000000z").status_code == 404


def put_histories(world: World, count: int = 3) -> ForecastingStore:
    store = ForecastingStore(STACK.physical_name("ForecastingTable"), world.aws.dynamodb)
    store.put_many([(f"oj-{i}", HISTORY, sales_history(f"oj-{i}", seed=i)) for i in range(count)])
    return store


def run_daily(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The schedule records a job and queues its chunks; a retried event is the same job."""
    daily, context = configure(monkeypatch, "ForecastDailyFunction", tmp_path)
    put_histories(world)
    world.forget_setup()
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r")
    summary = daily(event, context)
    assert (summary["skus"], summary["chunks"], summary["new"]) == (3, 1, 1)
    assert daily(event, context)["new"] == 0
    assert len(world.aws.sqs.sent) == 2  # the chunk again: counted once by the chunk function


def run_chunks(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A chunk is forecast, a redelivery counts once, and a poison message fails alone."""
    chunks, context = configure(monkeypatch, "ForecastChunkFunction", tmp_path)
    put_histories(world)
    serve_forecasting_demand(world)
    job = "daily-20261205t040000z"
    JobLog(STACK.physical_name("ForecastingTable"), world.aws.dynamodb).start(job, 1, 3, datetime.now(UTC))
    world.forget_setup()
    body = json.dumps({"job": job, "chunk": 0, "skus": ["oj-0", "oj-1", "oj-2"]})
    messages = [sqs_message("m1", body), sqs_message("m2", body), sqs_message("m3", '{"job": 1}')]
    result = chunks(sqs_event(messages, STACK.arn("ForecastChunksQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    # Read as stored, without a logged call (the function's calls are what is checked).
    items = world.aws.dynamodb.tables[STACK.physical_name("ForecastingTable")]
    assert (items[("#jobs", f"job#{job}")]["done"]["N"]) == "1"  # counted once for two deliveries
    assert ("oj-1", FORECAST) in items


def run_sales_upload(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A good file gets its forecast, plot and status; a refused one its status, and no stale results."""
    handler, context = configure(monkeypatch, "ForecastUploadFunction", tmp_path)
    bucket = STACK.physical_name("UploadsBucket")
    key = "uploads/forecasts/sales_data.csv"
    world.aws.s3.put_object(Bucket=bucket, Key=key, Body=daily_sales_csv(60).encode(), Metadata={"periods": "7"})
    world.forget_setup()
    event = sample("forecasting/ForecastUploadFunction-SalesUpload.json")
    assert handler(event, context) == {"batchItemFailures": []}
    assert (bucket, key + ".forecast.csv") in world.aws.s3.objects
    world.aws.s3.objects[(bucket, key)] = b"date,sales\n2026-01-01,x\n"  # replaced unlogged: not the function's call
    assert handler(event, context) == {"batchItemFailures": []}
    assert (bucket, key + ".forecast.csv") not in world.aws.s3.objects
    assert b'"rejected"' in world.aws.s3.objects[(bucket, key + ".status.json")]


SCENARIOS: dict[str, Scenario] = {
    "ForecastingApiFunction": run_forecasting_api,
    "ForecastingAdminFunction": run_forecasting_admin,
    "ForecastDailyFunction": run_daily,
    "ForecastChunkFunction": run_chunks,
    "ForecastUploadFunction": run_sales_upload,
}

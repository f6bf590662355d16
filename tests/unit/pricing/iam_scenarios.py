"""Pricing's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The scenarios that
serve a model get a real `pricing-demand` artifact (LightGBM -> ONNX, about a second to build, once)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.pricing import service
from commerce_ai.pricing.catalog import CatalogStore, SkuState, from_item
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from tests.support.events import sample_body
from tests.support.pricing import built_pricing_demand
from tests.unit.fakes import sqs_message
from tests.unit.iam import STACK, Scenario, World, configure

# What lives as long as a warm container: one per scenario.
CACHED = (service.demand_loader,)


def serve_pricing_demand(world: World) -> None:
    """Publish the pricing-demand artifact and activate it, as `commerce-ai up` does."""
    world.serve(world.built("pricing-demand", lambda d: [built_pricing_demand(d, {"oj-2-1": (2.49, 1.79)})]))


def put_skus(world: World, skus: dict[str, tuple[float, float]]) -> None:
    """The pricing catalog holds `skus` (sku -> (price, cost))."""
    catalog = CatalogStore(STACK.physical_name("PricingCatalogTable"), world.aws.dynamodb)
    for sku, (price, cost) in skus.items():
        catalog.put(SkuState(sku=sku, price=price, cost=cost, history=[price]))


def sku_state(world: World, sku: str) -> SkuState:
    """A SKU as stored, read without a logged call (the function's calls are what is checked)."""
    state = from_item(world.aws.dynamodb.tables[STACK.physical_name("PricingCatalogTable")][(sku,)])
    assert isinstance(state, SkuState)
    return state


def run_competitor_prices(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "CompetitorPricesFunction", tmp_path)
    put_skus(world, {"oj-2-1": (2.49, 1.79)})  # a catalog SKU: its competitor index is kept on it
    world.forget_setup()
    sample = sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json")
    hour_ago = datetime.now(UTC) - timedelta(hours=1)  # fresh, so the SKU's competitor index is updated
    messages = [
        sqs_message("m1", json.dumps({**sample, "observed_at": f"{hour_ago:%Y-%m-%dT%H:%M:%SZ}"})),
        sqs_message("m2", json.dumps({**sample, "observed_at": f"{hour_ago - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"})),
        sqs_message("m3", "{not json"),  # poison: fails alone
    ]
    result = handler(sqs_event(messages, STACK.arn("CompetitorPricesQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert sku_state(world, "oj-2-1").competitor_index == sample["price"]  # the update was made, and held


def run_pricing_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_pricing_admin(world, monkeypatch, tmp_path / "admin", keep=True)  # a SKU, its decisions and a tick
    handler, _ = configure(monkeypatch, "PricingApiFunction", tmp_path)
    world.ssm.values[STACK.function("PricingApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        assert client.http.get("/pricing/skus?limit=1").status_code == 200
        assert client.http.get("/pricing/skus/oj-2-1", headers=admin).status_code == 200
        assert client.http.get("/pricing/skus/oj-2-1/competitors").status_code == 200
        assert client.http.get("/pricing/prices/oj-2-1").status_code == 200
        history = json.loads(client.http.get("/pricing/prices/oj-2-1/history?limit=5").body)
        assert [d["outcome"] for d in history["items"]] == ["applied"]
        quoted = client.http.post(
            "/pricing/quote", headers={"Content-Type": "application/json"}, body=b'{"sku": "oj-2-1", "prices": [2.6]}'
        )
        assert quoted.status_code == 200
        ticks = json.loads(client.http.get("/pricing/ticks?limit=5").body)
        assert ticks["items"] and client.http.get(f"/pricing/ticks/{ticks['items'][0]['tick']}").status_code == 200


def run_pricing_admin(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keep: bool = False) -> None:
    handler, _ = configure(monkeypatch, "PricingAdminFunction", tmp_path)
    world.ssm.values[STACK.function("PricingAdminFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    serve_pricing_demand(world)
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        created = client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"price": 2.49, "cost": 1.79}')
        assert created.status_code == 200
        assert client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"floor": 1.99}').status_code == 200
        # A dry run over the whole catalog (Scan), then a real one for one SKU (BatchGetItem, the audit's
        # BatchWriteItem, the conditional UpdateItem).
        dry = client.http.post("/pricing/reprice", headers=admin, body=b'{"dry_run": true}')
        assert dry.status_code == 200 and json.loads(dry.body)["applied"] == 1
        done = client.http.post("/pricing/reprice", headers=admin, body=b'{"skus": ["oj-2-1"]}')
        assert done.status_code == 200 and json.loads(done.body)["applied"] == 1
        # The whole catalog: queued (the tick's status, then the message).
        queued = client.http.post("/pricing/reprice", headers=admin)
        assert queued.status_code == 202, queued.body
        assert len(world.aws.sqs.sent) == 1
        if not keep:
            assert client.http.delete("/pricing/skus/oj-2-1", headers=admin).status_code == 200


def run_repricing(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RepricingFunction", tmp_path)
    serve_pricing_demand(world)
    put_skus(world, {"cut": (3.0, 1.0), "keep": (2.0, 1.2), "raise": (2.0, 1.9)})
    world.forget_setup()
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r")
    plan = handler(event, context)
    assert (plan["chunks"], plan["skus"]) == (1, 3)
    assert len(world.aws.sqs.sent) == 1  # the tick's one chunk, queued for RepriceChunkFunction
    # A whole-catalog reprice an admin queued, and a poison request beside it.
    sample = json.dumps(sample_body("pricing/RepricingFunction-RepriceRequested.json"))
    messages = [sqs_message("m1", sample), sqs_message("m2", '{"tick": "yesterday"}')]
    result = handler(sqs_event(messages, STACK.arn("RepriceRequestsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def run_reprice_chunks(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RepriceChunkFunction", tmp_path)
    serve_pricing_demand(world)
    put_skus(world, {"cut": (3.0, 1.0), "keep": (2.0, 1.2), "raise": (2.0, 1.9)})
    world.forget_setup()
    tick = "2026-11-28T12:00:00.000Z"
    chunk = json.dumps({"tick": tick, "chunk": 0, "skus": ["cut", "keep", "raise"]})
    messages = [sqs_message("m1", chunk), sqs_message("m2", '{"tick": "yesterday"}')]
    event = sqs_event(messages, STACK.arn("RepriceChunksQueue"), STACK.env.region)
    assert handler(event, context) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert sku_state(world, "cut").price == 2.7  # the conditional update was made, and held
    # The chunk delivered again: counted once, nothing applied twice.
    assert handler(sqs_event(messages[:1], STACK.arn("RepriceChunksQueue"), STACK.env.region), context) == {
        "batchItemFailures": []
    }
    assert sku_state(world, "cut").price == 2.7


def run_catalogue_prices(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "CataloguePricesFunction", tmp_path)
    table = STACK.physical_name("CatalogTable")
    world.aws.dynamodb.put_item(
        TableName=table,
        Item={
            "item_id": {"S": "oj-2-1"},
            "title": {"S": "Orange juice"},
            "category": {"S": "juice"},
            "price": {"N": "2.49"},
            "in_stock": {"BOOL": True},
            "updated_at": {"S": "2026-11-28T00:00:00.000Z"},
        },
    )
    world.forget_setup()
    change = sample_body("pricing/CataloguePricesFunction-PriceChanged.json")
    elsewhere = {**change, "sku": "oj-2-1", "old_price": 9.0, "new_price": 9.5}  # another price: refused
    messages = [sqs_message("m1", json.dumps(change)), sqs_message("m2", json.dumps(elsewhere))]
    result = handler(sqs_event(messages, STACK.arn("CataloguePriceChangesQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert world.aws.dynamodb.tables[table][("oj-2-1",)]["price"] == {"N": "2.29"}


SCENARIOS: dict[str, Scenario] = {
    "CataloguePricesFunction": run_catalogue_prices,
    "RepricingFunction": run_repricing,
    "RepriceChunkFunction": run_reprice_chunks,
    "PricingApiFunction": run_pricing_api,
    "PricingAdminFunction": run_pricing_admin,
    "CompetitorPricesFunction": run_competitor_prices,
}

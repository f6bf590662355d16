"""The forecasting API over the local gateway, against real `forecasting-demand` and `forecasting-allocation`
artifacts in the emulator's bucket and registry and the forecasting table in its DynamoDB."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.errors import Conflict
from commerce_ai.forecasting import service
from commerce_ai.forecasting.allocation import ALLOCATION_MODEL
from commerce_ai.forecasting.features import FEATURE_NAMES
from commerce_ai.forecasting.inventory import period_moments
from commerce_ai.forecasting.model import MODEL_NAME, open_forecast_model
from commerce_ai.forecasting.service import forecast_histories
from commerce_ai.forecasting.store import FORECAST, HISTORY, ForecastingStore
from commerce_ai.pricing.catalog import CatalogStore, SkuState
from infra.template import Stack
from model_build import publish
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.callers import CALLER_KEYS, headers
from tests.support.forecasting import (
    allocation_policy,
    built_forecasting_allocation,
    built_forecasting_demand,
    sales_history,
)

OPERATOR_KEY = CALLER_KEYS["operator"]
OPERATOR = headers("operator")


@pytest.fixture(scope="module")
def forecasting_model(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    manifest = publish(store, built_forecasting_demand(tmp_path_factory.mktemp("forecasting-demand")))
    drain(stack, registry, MODEL_NAME, versions=len(registry.versions(MODEL_NAME)) + 1)
    registry.activate(MODEL_NAME, manifest.version)
    return manifest.version


@pytest.fixture(scope="module")
def allocation_model(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The allocation policy as the build publishes it: the learned one served."""
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    manifest = publish(store, built_forecasting_allocation(tmp_path_factory.mktemp("forecasting-allocation")))
    drain(stack, registry, ALLOCATION_MODEL, versions=len(registry.versions(ALLOCATION_MODEL)) + 1)
    registry.activate(ALLOCATION_MODEL, manifest.version)
    return manifest.version


@pytest.fixture(scope="module")
def seeded(stack: Stack, forecasting_model: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """`fc-1` as the seed leaves a SKU: a history and its forecast from the active model."""
    loader = ModelLoader(
        MODEL_NAME,
        expected_features=FEATURE_NAMES,
        opener=open_forecast_model,
        registry=ModelRegistry(stack.physical_name("ModelRegistryTable")),
        store=ArtifactStore(stack.physical_name("ArtifactBucket")),
        cache_dir=Path(tmp_path_factory.mktemp("cache")),
    )
    history = sales_history("fc-1")
    forecast = forecast_histories([history], loader.get(), datetime.now(UTC), job="test")[0]
    ForecastingStore(stack.physical_name("ForecastingTable")).put_many(
        [("fc-1", HISTORY, history), ("fc-1", FORECAST, forecast)]
    )
    return "fc-1"


def test_a_forecast_a_what_if_and_an_inventory_policy(stack: Stack, forecasting_model: str, seeded: str) -> None:
    gateway = gateway_for(stack)
    status, forecast = call(gateway, "GET", f"/forecasts/{seeded}", caller="operator")
    assert status == 200, forecast
    assert forecast["model_version"] == forecasting_model and len(forecast["periods"]) == 8
    assert all(p["p10"] <= p["p50"] <= p["p90"] for p in forecast["periods"])

    # A price cut with a promotion sells more than the last price (the synthetic market has elasticity -3).
    status, plan = call(
        gateway,
        "POST",
        "/forecasts/what-if",
        {"sku": seeded, "prices": [1.99] * 4, "promotions": [1, 1, 1, 1]},
        caller="operator",
    )
    assert status == 200, plan
    assert plan["prices"] == [1.99] * 8 and plan["promotions"][4:] == [0.0] * 4 and plan["price_source"] == "request"
    assert plan["plan_p50_total"] > plan["baseline_p50_total"]

    # With no prices, the plan is at the last sold price until pricing prices the SKU, then at pricing's price.
    status, plan = call(gateway, "POST", "/forecasts/what-if", {"sku": seeded}, caller="operator")
    assert status == 200 and plan["price_source"] == "history", plan
    CatalogStore(stack.physical_name("PricingCatalogTable")).put(SkuState(sku=seeded, price=2.37, cost=1.0))
    status, plan = call(gateway, "POST", "/forecasts/what-if", {"sku": seeded, "periods": 3}, caller="operator")
    assert status == 200 and plan["price_source"] == "pricing" and plan["prices"] == [2.37] * 3, plan

    settings = {"on_hand": 50, "lead_time_periods": 2, "review_periods": 1, "service_level": 0.9}
    status, stored = call(gateway, "PUT", f"/inventory/{seeded}", settings, ADMIN_KEY)
    assert status == 200 and stored["on_hand"] == 50 and stored["updated_at"].endswith("Z")
    status, policy = call(gateway, "GET", f"/inventory/{seeded}/policy", None, ADMIN_KEY)
    assert status == 200, policy
    used = policy["inputs"]["periods"]
    # the mean of the skewed weeks the quantiles describe (not the sum of their medians)
    expected = sum(period_moments(p["p10"], p["p50"], p["p90"])[0] for p in used)
    assert len(used) == 3 and policy["expected_demand"] == pytest.approx(expected, abs=0.05)
    assert policy["order_up_to"] == pytest.approx(policy["expected_demand"] + policy["safety_stock"], abs=0.02)
    assert policy["order_quantity"] == pytest.approx(max(0.0, policy["order_up_to"] - 50), abs=0.02)


def test_bad_requests_get_a_json_4xx(stack: Stack, seeded: str) -> None:
    gateway = gateway_for(stack)
    cases = [
        ("GET", "/forecasts/never-seen", None, OPERATOR_KEY, 404),
        ("POST", "/forecasts/what-if", {"sku": "never-seen"}, OPERATOR_KEY, 404),
        ("POST", "/forecasts/what-if", {"sku": seeded, "prices": [-1]}, OPERATOR_KEY, 400),
        ("POST", "/forecasts/what-if", {"sku": seeded, "prices": ["2.49"]}, OPERATOR_KEY, 400),
        ("POST", "/forecasts/what-if", {"sku": seeded, "promotions": [2]}, OPERATOR_KEY, 400),
        ("POST", "/forecasts/what-if", {"sku": seeded, "prices": [2.0] * 9}, OPERATOR_KEY, 400),
        ("PUT", f"/inventory/{seeded}", {"on_hand": 5, "lead_time_periods": 1}, None, 401),
        ("PUT", f"/inventory/{seeded}", {"on_hand": -5, "lead_time_periods": 1}, ADMIN_KEY, 400),
        ("PUT", f"/inventory/{seeded}", {"on_hand": 5, "lead_time_periods": 1, "service_level": 1.0}, ADMIN_KEY, 400),
        ("GET", "/inventory/never-seen/policy", None, ADMIN_KEY, 404),
        ("GET", f"/inventory/{seeded}/policy", None, None, 401),
        ("GET", f"/forecasts/{seeded}", None, None, 401),  # the shop's demand: operators only
        ("PUT", f"/inventory/{seeded}", {"on_hand": 5, "lead_time_periods": 1}, OPERATOR_KEY, 403),
    ]
    for method, path, body, key, expected in cases:
        status, answer = call(gateway, method, path, body, key)
        assert status == expected, (method, path, body, answer)
        assert answer["Code"] and answer["Message"]


def test_the_forecast_plot_is_a_png_or_an_svg_as_the_client_accepts(stack: Stack, seeded: str) -> None:
    gateway = gateway_for(stack)
    path = f"/forecasts/{seeded}/plot?history=20"
    for accept in ("image/png", "*/*", "image/*", "text/html,application/xhtml+xml,*/*;q=0.8"):
        status, headers, payload = gateway.handle("GET", path, {"Accept": accept, **OPERATOR}, b"", "127.0.0.1")
        assert status == 200 and headers["Content-Type"] == "image/png", (accept, payload[:200])
        assert payload[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", payload[16:24]) == (720, 320)
    for headers_sent in ({}, {"Accept": "image/svg+xml"}, {"Accept": "image/png;q=0.5, image/svg+xml"}):
        status, headers, payload = gateway.handle("GET", path, {**headers_sent, **OPERATOR}, b"", "127.0.0.1")
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml"), headers_sent
        svg = ElementTree.fromstring(payload)  # well-formed XML, as a browser needs
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(svg.findall("{http://www.w3.org/2000/svg}polygon")) == 1 and len(lines) == 2  # band; history, p50
    assert len(lines[0].get("points", "").split()) == 20 and len(lines[1].get("points", "").split()) == 9
    status, headers, payload = gateway.handle("GET", path, {"Accept": "text/csv", **OPERATOR}, b"", "127.0.0.1")
    assert status == 406 and json.loads(payload)["Code"] == "NotAcceptableError"
    assert call(gateway, "GET", "/forecasts/fc-none/plot", caller="operator") == (
        404,
        {"Code": "NotFoundError", "Message": "SKU fc-none has no forecast yet"},
    )
    assert call(gateway, "GET", f"/forecasts/{seeded}/plot?history=999", caller="operator")[0] == 400


def test_stock_is_allocated_across_stores_by_the_served_policy(
    stack: Stack, forecasting_model: str, allocation_model: str, seeded: str
) -> None:
    """Two stores, one selling about four times the other: every unit is shipped, in whole units; the store
    with the stock already on hand gets less; a heuristic can be named to compare."""
    gateway = gateway_for(stack)
    history = sales_history("fc-small", level=25.0, seed=7)
    store = ForecastingStore(stack.physical_name("ForecastingTable"))
    forecast = store.forecast(seeded)
    assert forecast is not None
    small = forecast.model_copy(
        update={
            "sku": "fc-small",
            "periods": [
                p.model_copy(update={"p10": p.p10 / 4, "p50": p.p50 / 4, "p90": p.p90 / 4}) for p in forecast.periods
            ],
        }
    )
    store.put_many([("fc-small", HISTORY, history), ("fc-small", FORECAST, small)])
    request = {"supply": 101, "skus": [seeded, "fc-small"]}
    status, plan = call(gateway, "POST", "/inventory/allocations", request, ADMIN_KEY)
    assert status == 200, plan
    assert plan["policy"] == plan["served_policy"] == "learned" and plan["model_versions"] == [forecasting_model]
    assert plan["policy_version"] == allocation_model
    units = {s["sku"]: s["units"] for s in plan["stores"]}
    assert plan["allocated"] == sum(units.values()) == 101 and units[seeded] > units["fc-small"] > 0
    assert {s["on_hand_source"] for s in plan["stores"]} <= {"inventory", "none"}

    status, proportional = call(
        gateway, "POST", "/inventory/allocations", {**request, "policy": "proportional"}, ADMIN_KEY
    )
    assert status == 200 and [s["units"] for s in proportional["stores"]] in ([81, 20], [80, 21]), proportional

    stocked = {**request, "on_hand": {seeded: 500}}
    status, after = call(gateway, "POST", "/inventory/allocations", stocked, ADMIN_KEY)
    assert status == 200 and after["stores"][0]["on_hand_source"] == "request", after
    assert after["stores"][0]["units"] < units[seeded] and after["stores"][0]["need"] == 0.0


def test_the_served_policy_follows_the_registry_and_a_broken_one_is_refused(
    stack: Stack, allocation_model: str, seeded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version whose study chose a heuristic serves that heuristic by default; a `policy.json` whose
    weights do not fit serving's features is quarantined at validation by forecasting's own opener, cannot
    be activated, and the last good version keeps serving."""
    gateway = gateway_for(stack)
    monkeypatch.setattr(service.allocation_loader(), "refresh_seconds", 0)  # follow the pointer at once
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    heuristic = publish(store, built_forecasting_allocation(tmp_path / "h", allocation_policy("fair-share")))
    broken_built = built_forecasting_allocation(tmp_path / "b")
    policy_file = broken_built.directory / broken_built.entrypoint
    policy_file.write_text(policy_file.read_text().replace('"theta": [', '"theta": [0.5, '))  # six weights
    broken = publish(store, broken_built)
    drain(stack, registry, ALLOCATION_MODEL, versions=len(registry.versions(ALLOCATION_MODEL)) + 2)
    request = {"supply": 50, "skus": [seeded, "fc-small"]}
    try:
        registry.activate(ALLOCATION_MODEL, heuristic.version)
        status, plan = call(gateway, "POST", "/inventory/allocations", request, ADMIN_KEY)
        assert status == 200 and plan["policy"] == plan["served_policy"] == "fair-share", plan
        assert plan["policy_version"] == heuristic.version

        (record,) = [v for v in registry.versions(ALLOCATION_MODEL) if v.version == broken.version]
        assert record.state == "quarantined" and record.reason is not None and "theta" in record.reason
        with pytest.raises(Conflict, match="quarantined"):
            registry.activate(ALLOCATION_MODEL, broken.version)
        status, plan = call(gateway, "POST", "/inventory/allocations", request, ADMIN_KEY)
        assert status == 200 and plan["policy_version"] == heuristic.version, plan
    finally:
        registry.activate(ALLOCATION_MODEL, allocation_model)


def test_bad_allocation_requests_get_a_json_4xx(stack: Stack, allocation_model: str, seeded: str) -> None:
    gateway = gateway_for(stack)
    good = {"supply": 10, "skus": [seeded, "fc-small"]}
    cases = [
        (good, None, 401),
        (good, "wrong-key", 401),  # an unknown key
        (good, CALLER_KEYS["labels"], 403),
        ({"supply": 10, "skus": [seeded, "never-seen"]}, ADMIN_KEY, 404),
        ({"supply": 10, "skus": [seeded]}, ADMIN_KEY, 400),
        ({"supply": 10, "skus": [seeded, seeded]}, ADMIN_KEY, 400),
        ({"supply": -1, "skus": [seeded, "fc-small"]}, ADMIN_KEY, 400),
        ({"supply": 10.5, "skus": [seeded, "fc-small"]}, ADMIN_KEY, 400),
        ({**good, "on_hand": {"elsewhere": 3}}, ADMIN_KEY, 400),
        ({**good, "on_hand": {seeded: -3}}, ADMIN_KEY, 400),
        ({**good, "policy": "random"}, ADMIN_KEY, 400),
        ({"supply": 10, "skus": [seeded, "a/b"]}, ADMIN_KEY, 400),
    ]
    for body, key, expected in cases:
        status, answer = call(gateway, "POST", "/inventory/allocations", body, key)
        assert status == expected, (body, answer)
        assert answer["Code"] and answer["Message"]

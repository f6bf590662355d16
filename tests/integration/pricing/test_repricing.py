"""Repricing on the emulator: the scheduled tick, its retry, a broken SKU, the admin routes and quotes.

The served model is a real `pricing-demand` artifact (LightGBM -> ONNX) trained on a synthetic market
with elasticity -2.5, so the shipped myopic price is cost x 2.5 / 1.5.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from commerce_ai import aws
from commerce_ai.pricing.catalog import CatalogStore, SkuState
from commerce_ai.pricing.decision_archive import DecisionArchive
from commerce_ai.pricing.decisions import DecisionLog
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, gateway_for
from tests.support.callers import CALLER_KEYS
from tests.support.events import sample_body
from tests.support.invoke import in_process
from tests.support.pricing import (
    THREE_SKUS,
    drain_chunks,
    price_changes_listener,
    received,
    scheduled_tick,
    sku_history,
    store_raw,
)


@dataclass
class Priced:
    catalog: CatalogStore
    prefix: str

    def sku(self, name: str) -> str:
        return f"{self.prefix}-{name}"


@pytest.fixture
def priced(stack: Stack, demand_model: str, request: pytest.FixtureRequest) -> Priced:
    """THREE_SKUS under this test's own prefix, so tests never see each other's decisions. SKUs the model never
    saw get its default level and pooled elasticity: the same synthetic market."""
    store = CatalogStore(stack.physical_name("PricingCatalogTable"))
    prefix = request.node.name.split("[")[0].removeprefix("test_")[:24].replace("_", "-")
    for name, (price, cost) in THREE_SKUS.items():
        store.put(SkuState(sku=f"{prefix}-{name}", price=price, cost=cost, history=[price]))
    return Priced(store, prefix)


def tick(stack: Stack, time: str) -> dict[str, Any]:
    """The scheduled tick, planned and queued in chunks, each run by the chunk worker."""
    return scheduled_tick(stack, time)


def test_a_tick_prices_the_catalog_records_every_decision_and_a_retry_applies_nothing_twice(
    stack: Stack, priced: Priced, demand_model: str
) -> None:
    log = DecisionLog(stack.physical_name("PricingTable"))
    # A SKU whose entry is broken (cost is not a number) fails alone; the tick finishes the rest. (It keeps
    # its stage, so the plan's scan of the stage index lists it; an item without one is not listed, and reads
    # show it broken: tests/unit/pricing/test_catalog_store.py.)
    store_raw(priced.catalog, priced.sku("broken"), {"price": 2, "cost": "unknown", "stage": "mature"})

    summary = tick(stack, "2026-11-28T10:00:00Z")
    assert summary["model_version"] == demand_model and summary["failed"] >= 1

    assert priced.catalog.get(priced.sku("keep")).price == 2.0
    assert priced.catalog.get(priced.sku("cut")).price == 2.7  # -10%: the step limit paces the cut
    assert priced.catalog.get(priced.sku("raise")).price == 2.2  # +10%
    cut = sku_history(priced.catalog, log, priced.sku("cut"))[0]
    assert cut.outcome == "applied" and cut.old_price == 3.0 and cut.applied == 2.7
    assert "max_step" in cut.rules and cut.model_version == demand_model and cut.policy_version
    assert cut.expected_weekly_units and cut.expected_weekly_units > 0
    assert sku_history(priced.catalog, log, priced.sku("keep")) == [], "a kept decision is not stored per SKU..."
    (broken,) = sku_history(priced.catalog, log, priced.sku("broken"))
    assert broken.outcome == "failed"
    # ...but in the tick's whole log in S3: exactly one record per catalog SKU, kept ones included.
    lines = DecisionArchive(stack.physical_name("PricingDecisionLogBucket")).records("2026-11-28T10:00:00.000Z")
    catalog_skus = {s if isinstance(s, str) else s.sku for s in priced.catalog.read().states()}
    assert sorted(line["sku"] for line in lines) == sorted(catalog_skus)
    kept = next(line for line in lines if line["sku"] == priced.sku("keep"))
    assert kept["outcome"] == "kept" and "applied" not in kept and kept["reason"]

    # The same scheduled event again (Lambda's async retry): planned again, its chunks are done already:
    # nothing is applied a second time, and nothing is counted twice.
    again = tick(stack, "2026-11-28T10:00:00Z")
    assert again == summary
    assert priced.catalog.get(priced.sku("cut")).price == 2.7 and priced.catalog.get(priced.sku("raise")).price == 2.2
    assert len(sku_history(priced.catalog, log, priced.sku("cut"))) == 1

    # The next tick moves on from the new prices.
    tick(stack, "2026-11-28T10:15:00Z")
    assert priced.catalog.get(priced.sku("cut")).price == 2.43
    history = sku_history(priced.catalog, log, priced.sku("cut"))
    assert [r.tick for r in history] == ["2026-11-28T10:15:00.000Z", "2026-11-28T10:00:00.000Z"]
    assert priced.catalog.get(priced.sku("cut")).history[-3:] == [3.0, 2.7, 2.43]


def test_price_history_quote_and_admin_reprice_over_http(stack: Stack, priced: Priced) -> None:
    gateway = gateway_for(stack)
    keep, cut = priced.sku("keep"), priced.sku("cut")
    status, dry = call(gateway, "POST", "/pricing/reprice", {"skus": [cut], "dry_run": True}, ADMIN_KEY)
    assert status == 200 and dry["dry_run"] and dry["applied"] == 1
    assert dry["decisions"][0]["sku"] == cut and dry["decisions"][0]["applied"] == 2.7
    assert priced.catalog.get(cut).price == 3.0  # a dry run writes nothing

    status, done = call(gateway, "POST", "/pricing/reprice", {"skus": [cut, keep]}, ADMIN_KEY)
    assert (status, done["applied"], done["kept"]) == (200, 1, 1)
    # An idempotency key: the same request again gets the first answer (nothing runs twice), another a 409.
    keyed = {"skus": [keep], "idempotency_key": f"{priced.prefix}-once"}
    first, again = (call(gateway, "POST", "/pricing/reprice", keyed, ADMIN_KEY) for _ in range(2))
    assert first[0] == again[0] == 200 and again[1] == first[1] and first[1]["kept"] == 1
    status, reused = call(gateway, "POST", "/pricing/reprice", {**keyed, "dry_run": True}, ADMIN_KEY)
    assert status == 409 and "idempotency_key" in reused["Message"] and "different request" in reused["Message"]
    status, shown = call(gateway, "GET", f"/pricing/prices/{cut}")  # public: a shopper sees the price only
    assert (status, set(shown)) == (200, {"sku", "price", "updated_at"}) and shown["price"] == 2.7
    status, price = call(gateway, "GET", f"/pricing/skus/{cut}", caller="operator")
    assert status == 200 and price["price"] == 2.7
    assert price["last_decision"]["outcome"] == "applied"
    assert "changed 3.00 -> 2.70" in price["last_decision"]["reason"]
    status, history = call(gateway, "GET", f"/pricing/prices/{keep}/history?limit=1", caller="operator")
    assert status == 200 and history["items"] == [], "kept decisions are in the S3 log only"
    assert history["full_log"].startswith(f"s3://{stack.physical_name('PricingDecisionLogBucket')}/decisions/dt=")

    status, quoted = call(
        gateway, "POST", "/pricing/quote", {"sku": keep, "prices": [1.0, 2.1, 2.5]}, caller="operator"
    )
    assert status == 200
    units = [q["units"] for q in quoted["quotes"]]
    assert units[0] > units[1] > units[2] > 0  # demand falls as price rises
    below_cost, allowed, too_far = (q["guard"]["verdict"] for q in quoted["quotes"])
    assert (below_cost, allowed, too_far) == ("blocked", "allowed", "adjusted")  # 2.5 is +25%: capped at +10%
    assert quoted["quotes"][2]["guard"]["applied"] == 2.2
    assert quoted["quotes"][1]["profit"] == pytest.approx((2.1 - 1.2) * units[1], abs=0.01)


def test_a_whole_catalog_reprice_is_queued_run_by_the_repricing_function_and_its_status_shown(
    stack: Stack, priced: Priced
) -> None:
    gateway = gateway_for(stack)
    keyed = {"idempotency_key": f"{priced.prefix}-whole"}
    status, queued = call(gateway, "POST", "/pricing/reprice", keyed, ADMIN_KEY)
    assert status == 202 and queued["state"] == "queued" and queued["status_url"] == f"/pricing/ticks/{queued['tick']}"
    # Its retry (the 202 was lost) gets the same tick, not a 409 naming its own pending tick.
    assert call(gateway, "POST", "/pricing/reprice", keyed, ADMIN_KEY) == (202, queued)
    assert call(gateway, "GET", queued["status_url"], caller="operator")[1]["state"] == "queued"
    assert priced.catalog.get(priced.sku("cut")).price == 3.0, "nothing ran yet"

    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("RepriceRequestsQueue"))["QueueUrl"]
    aws.client("sqs").send_message(QueueUrl=url, MessageBody='{"tick": "not a tick"}')  # poison beside it
    source = QueueSource(
        "RepricingFunction", url, stack.arn("RepriceRequestsQueue"), batch_size=1, report_failures=True
    )
    for _ in range(10):
        source.poll_once(in_process(stack), wait_seconds=1)
        if call(gateway, "GET", queued["status_url"], caller="operator")[1]["state"] != "queued":
            break
    planned = call(gateway, "GET", queued["status_url"], caller="operator")[1]
    assert planned["state"] == "running" and planned["chunks"] >= 1 and planned["chunks_done"] == 0
    drain_chunks(stack)  # the chunk workers

    status, done = call(gateway, "GET", queued["status_url"], caller="operator")
    assert status == 200 and done["state"] == "done" and done["source"] == "admin" and done["attempt"] == 1
    assert done["chunks_done"] == done["chunks"] == planned["chunks"] and done["chunks_failed"] == 0
    assert done["summary"]["tick"] == queued["tick"] and done["summary"]["applied"] >= 2
    assert priced.catalog.get(priced.sku("cut")).price == 2.7
    status, recent = call(gateway, "GET", "/pricing/ticks?limit=100", caller="operator")
    assert status == 200 and queued["tick"] in [t["tick"] for t in recent["items"]]
    for path, expected in (
        ("/pricing/ticks/2026-11-28T12:00:00Z", 400),
        ("/pricing/ticks/2020-01-01T00:00:00.000Z", 404),
    ):
        status, answer = call(gateway, "GET", path, caller="operator")
        assert status == expected and answer["Message"]


OPERATOR_KEY = CALLER_KEYS["operator"]


@pytest.mark.parametrize(
    ("method", "path", "body", "key", "expected"),
    [
        ("POST", "/pricing/reprice", {"dry_run": True}, None, 401),
        ("POST", "/pricing/reprice", {"dry_run": True}, "wrong", 401),  # an unknown key
        ("POST", "/pricing/reprice", {"dry_run": True}, OPERATOR_KEY, 403),  # operators read, admins reprice
        ("POST", "/pricing/quote", {"sku": "KEEP", "prices": [1.0]}, None, 401),  # costs: never anonymous
        ("POST", "/pricing/reprice", {"skus": []}, ADMIN_KEY, 400),
        ("POST", "/pricing/reprice", {"skus": ["bad sku!"]}, ADMIN_KEY, 400),
        ("POST", "/pricing/reprice", {"dry_run": "false"}, ADMIN_KEY, 400),  # not read as true, nor queued
        ("POST", "/pricing/reprice", {"dry_run": 1}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/KEEP", {"ceiling": 0.5}, ADMIN_KEY, 400),  # below the margin floor
        ("PUT", "/pricing/skus/KEEP", {"price": 0.5}, ADMIN_KEY, 400),  # below cost
        ("PUT", "/pricing/skus/KEEP", {"price": None}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/KEEP", {"cost": "2"}, ADMIN_KEY, 400),
        ("GET", "/pricing/ticks/2026-13-45T99:99:99.999Z", None, OPERATOR_KEY, 400),
        ("POST", "/pricing/quote", {"sku": "KEEP", "prices": []}, OPERATOR_KEY, 400),
        ("POST", "/pricing/quote", {"sku": "KEEP", "prices": [-1]}, OPERATOR_KEY, 400),
        ("POST", "/pricing/quote", {"sku": "KEEP"}, OPERATOR_KEY, 400),
        ("POST", "/pricing/quote", {"sku": "never-seen", "prices": [1.0]}, OPERATOR_KEY, 404),
        ("GET", "/pricing/prices/never-seen/history", None, OPERATOR_KEY, 404),
        ("GET", "/pricing/prices/KEEP/history?limit=1000", None, OPERATOR_KEY, 400),
        ("GET", "/pricing/prices/KEEP/history?cursor=abc", None, OPERATOR_KEY, 400),
    ],
)
def test_bad_pricing_requests_get_a_json_4xx(
    stack: Stack, priced: Priced, method: str, path: str, body: Any, key: str | None, expected: int
) -> None:
    keep = priced.sku("keep")
    if body is not None:
        body = json.loads(json.dumps(body).replace("KEEP", keep))
    status, answer = call(gateway_for(stack), method, path.replace("KEEP", keep), body, key)
    assert status == expected, answer
    assert answer["Code"] and answer["Message"]


def test_a_competitor_price_updates_the_skus_competitor_index(stack: Stack, priced: Priced) -> None:
    sample = sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json")
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("CompetitorPricesQueue"))["QueueUrl"]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for competitor, price in (("a", 2.1), ("b", 2.3), ("c", 9.9)):
        body = {**sample, "sku": priced.sku("keep"), "competitor": competitor, "price": price, "observed_at": now}
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    source = QueueSource(
        "CompetitorPricesFunction", url, stack.arn("CompetitorPricesQueue"), batch_size=10, report_failures=True
    )
    for _ in range(5):
        source.poll_once(in_process(stack), wait_seconds=1)
        if priced.catalog.get(priced.sku("keep")).competitor_index == 2.3:
            break
    assert priced.catalog.get(priced.sku("keep")).competitor_index == 2.3  # the median, not dragged by one outlier


def test_a_ticks_changes_are_published_once_and_its_retry_publishes_none(stack: Stack, priced: Priced) -> None:
    url = price_changes_listener(stack, "price-changes-listener")
    ours = {priced.sku(name) for name in THREE_SKUS}
    tick(stack, "2026-11-29T08:00:00Z")
    events = sorted((e for e in received(url) if e["sku"] in ours), key=lambda e: e["sku"])
    assert [(e["sku"], e["old_price"], e["new_price"]) for e in events] == [
        (priced.sku("cut"), 3.0, 2.7),
        (priced.sku("raise"), 2.0, 2.2),
    ]
    assert events[0]["event_id"] == f"2026-11-29T08:00:00.000Z#{priced.sku('cut')}"
    assert all(e["type"] == "price_changed" and e["reason"] for e in events)

    tick(stack, "2026-11-29T08:00:00Z")  # the same event again (Lambda's retry)
    assert [e for e in received(url) if e["sku"] in ours] == [], "applied nothing twice, published nothing twice"


def test_an_admin_price_is_published_and_the_stage_index_answers_over_http(stack: Stack, priced: Priced) -> None:
    url = price_changes_listener(stack, "admin-price-changes-listener")
    gateway = gateway_for(stack)
    keep = priced.sku("keep")
    status, _ = call(gateway, "PUT", f"/pricing/skus/{keep}", {"price": 2.1, "note": "promo week"}, ADMIN_KEY)
    assert status == 200
    (event,) = [e for e in received(url) if e["sku"] == keep]
    assert (event["old_price"], event["new_price"], event["type"]) == (2.0, 2.1, "price_changed")
    assert "admin_price" in event["rules"] and "promo week" in event["reason"] and event["event_id"].endswith(keep)
    status, _ = call(gateway, "PUT", f"/pricing/skus/{keep}", {"price": 2.1}, ADMIN_KEY)  # the same price again
    assert status == 200 and [e for e in received(url) if e["sku"] == keep] == [], "no change, no event"

    status, _ = call(
        gateway,
        "PUT",
        f"/pricing/skus/{priced.sku('cut')}",
        {"stage": "clearance", "clearance_end": "2027-01-31T00:00:00Z", "salvage_price": 1.2, "inventory": 40.0},
        ADMIN_KEY,
    )
    assert status == 200
    names, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={quote(cursor)}" if cursor else "")
        status, page = call(gateway, "GET", f"/pricing/stages/clearance/skus?{query}", None, ADMIN_KEY)
        assert status == 200
        names += [item["sku"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert priced.sku("cut") in names and keep not in names
    assert call(gateway, "GET", "/pricing/stages/retired/skus", None, ADMIN_KEY)[0] == 400
    assert call(gateway, "GET", "/pricing/stages/clearance/skus")[0] == 401

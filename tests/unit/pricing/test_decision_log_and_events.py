"""A tick's whole decision log in S3 (gzip JSON lines, one object per tick, one line per SKU) and its
price-change events (once per change, deterministic ids, none again on a retry)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import SkuState
from commerce_ai.pricing.decision_archive import DecisionArchive, object_key
from commerce_ai.pricing.demand import DemandModel
from commerce_ai.pricing.price_events import PriceEvents
from commerce_ai.pricing.ticks import TickReport, run_tick, tick_stamp
from tests.unit.fakes import FakeS3, FakeSNS
from tests.unit.pricing.conftest import PRICING_TABLE, PricingTables

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TICK = tick_stamp(NOW)
SKUS = {"cut": (3.0, 1.0), "keep": (2.0, 1.2), "raise": (2.0, 1.9)}
TOPIC = "arn:aws:sns:us-east-1:123456789012:price-changes"
BUCKET = "decision-log"
Model = LoadedModel[DemandModel]


@pytest.fixture
def outlets(tables: PricingTables) -> tuple[DecisionArchive, PriceEvents, FakeS3, FakeSNS]:
    s3, sns = FakeS3(), FakeSNS()
    return DecisionArchive(BUCKET, s3), PriceEvents(TOPIC, PRICING_TABLE, sns, tables.ddb), s3, sns


def stock(tables: PricingTables) -> None:
    for sku, (price, cost) in SKUS.items():
        tables.catalog.put(SkuState(sku=sku, price=price, cost=cost, history=[price]))


def tick(tables: PricingTables, model: Model, outlets: Any, **options: Any) -> TickReport:
    archive, events, _, _ = outlets
    return run_tick(tables.catalog, tables.log, model, NOW, TICK, archive=archive, events=events, **options)


def log_lines(s3: FakeS3) -> list[dict[str, Any]]:
    body = s3.objects[(BUCKET, object_key(TICK))]
    return [json.loads(line) for line in gzip.decompress(body).decode().splitlines()]


def test_the_s3_log_holds_one_line_per_catalog_sku_kept_ones_included(
    tables: PricingTables, demand_model: Model, outlets: Any
) -> None:
    stock(tables)
    tick(tables, demand_model, outlets)
    archive, _, s3, _ = outlets
    assert object_key(TICK) == f"decisions/dt=2026-11-28/{TICK}.jsonl.gz"
    lines = log_lines(s3)
    assert [line["sku"] for line in lines] == sorted(SKUS), "one line per SKU, in SKU order"
    assert {line["sku"]: line["outcome"] for line in lines} == {"cut": "applied", "keep": "kept", "raise": "applied"}
    assert all(line["tick"] == TICK and line["reason"] for line in lines)
    assert archive.records(TICK) == lines, "read back with the stream archive's reader"
    assert list(archive.ticks(NOW.date(), NOW.date())) == [TICK]


def test_a_retried_tick_rewrites_its_log_with_one_line_per_sku_still(
    tables: PricingTables, demand_model: Model, outlets: Any
) -> None:
    stock(tables)
    first = {line["sku"]: line for line in (tick(tables, demand_model, outlets), log_lines(outlets[2]))[1]}
    again = tick(tables, demand_model, outlets)
    assert again.already_done == 2
    lines = log_lines(outlets[2])
    assert [line["sku"] for line in lines] == sorted(SKUS)
    cut = next(line for line in lines if line["sku"] == "cut")
    assert (cut["outcome"], cut["old_price"], cut["applied"]) == ("applied", 3.0, 2.7)
    assert cut == first["cut"], "the change's own record, as its catalog item keeps it"


def test_every_change_is_published_once_with_a_deterministic_id(
    tables: PricingTables, demand_model: Model, outlets: Any
) -> None:
    stock(tables)
    tick(tables, demand_model, outlets)
    sns: FakeSNS = outlets[3]
    events = [json.loads(e["Message"]) for e in sns.published]
    assert sorted((e["sku"], e["old_price"], e["new_price"]) for e in events) == [
        ("cut", 3.0, 2.7),
        ("raise", 2.0, 2.2),
    ]
    assert {e["event_id"] for e in events} == {f"{TICK}#cut", f"{TICK}#raise"}
    assert all(e["type"] == "price_changed" and e["tick"] == TICK and e["reason"] for e in events)
    assert all(entry["TopicArn"] == TOPIC for entry in sns.published)

    tick(tables, demand_model, outlets)  # the same tick again: nothing applied, nothing published
    assert len(sns.published) == 2


def test_a_retry_after_a_crash_before_the_events_were_out_publishes_the_earlier_changes_once(
    tables: PricingTables, demand_model: Model, outlets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock(tables)
    _, events, _, sns = outlets
    monkeypatch.setattr(events, "publish", lambda changes: (_ for _ in ()).throw(RuntimeError("the topic is gone")))
    with pytest.raises(RuntimeError, match="topic"):
        tick(tables, demand_model, outlets)
    assert tables.catalog.get("cut").price == 2.7, "applied before the publish failed"
    monkeypatch.undo()

    retry = tick(tables, demand_model, outlets)
    assert retry.already_done == 2 and retry.summary()["applied"] == 0, "nothing applied twice"
    published = sorted(json.loads(e["Message"])["event_id"] for e in sns.published)
    assert published == [f"{TICK}#cut", f"{TICK}#raise"], "the earlier attempt's changes, published by the retry"
    tick(tables, demand_model, outlets)
    assert len(sns.published) == 2, "and not again once they are out"


def test_a_dry_run_writes_no_log_and_publishes_nothing(
    tables: PricingTables, demand_model: Model, outlets: Any
) -> None:
    stock(tables)
    tick(tables, demand_model, outlets, dry_run=True)
    assert outlets[2].objects == {} and outlets[3].published == []

"""The profile consumer reads a queue batch's items from the catalogue with one BatchGetItem, not one GetItem
per event, and each event is folded with its own item's facts."""

from __future__ import annotations

import functools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.propensity import catalogue, service
from commerce_ai.propensity.profile import ItemFacts
from commerce_ai.stream.consumer import EventConsumer
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.sqs_poller import sqs_event
from tests.unit.fakes import FakeDynamoDB, sqs_message

ARN = "arn:aws:sqs:us-east-1:123456789012:commerce-ai-PropensityProfileEventsQueue"
NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


def body(n: int, item: str | None) -> str:
    record: dict[str, Any] = {
        "event_id": f"e-{n}",
        "user_id": f"u-{n % 2}",
        "session_id": "s-1",
        "event_type": "view" if item else "search",
        "timestamp": f"{NOW:%Y-%m-%dT%H:%M:%S}.000Z",
    }
    return json.dumps(record | ({"item_id": item} if item else {"query": "boots"}))


def test_one_batch_get_per_queue_batch_and_each_event_gets_its_items_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = FakeDynamoDB({"catalog": ("item_id",)})
    catalog = Catalog("catalog", dynamodb=ddb)
    catalog.put(CatalogItem(item_id="sku-1", title="Boots", category="shoes", brand="acme", updated_at=NOW))
    monkeypatch.setattr(catalogue, "_catalog", lambda: catalog)
    asked: list[list[str]] = []
    get_many = catalog.get_many

    def recording(ids: list[str]) -> dict[str, CatalogItem]:
        asked.append(list(ids))
        return get_many(ids)

    monkeypatch.setattr(catalog, "get_many", recording)
    folded: dict[str, ItemFacts | None] = {}
    monkeypatch.setattr(service, "apply_event", lambda event, now, facts=None: folded.setdefault(event.event_id, facts))
    handler = load_handler(Path("functions/propensity"), "profile_events", "handler")
    # the ledger and the erasure check are the stream consumer's own (tested in tests/unit/stream)
    monkeypatch.setattr(
        sys.modules[handler.__module__], "EventConsumer", functools.partial(EventConsumer, ledger=None, erasures=None)
    )
    ddb.log.clear()
    records = [sqs_message(f"m{n}", body(n, item)) for n, item in enumerate(["sku-1", "sku-2", "sku-1", None, "sku-3"])]

    assert handler(sqs_event(records, ARN, "us-east-1"), LambdaContext("fn")) == {"batchItemFailures": []}

    assert [operation for operation, _ in ddb.log] == ["BatchGetItem"]
    assert asked == [["sku-1", "sku-2", "sku-3"]]
    assert folded["e-0"] == folded["e-2"] == ItemFacts(category="shoes", brand="acme", list_price=None)
    assert folded["e-1"] is None and folded["e-3"] is None and folded["e-4"] is None

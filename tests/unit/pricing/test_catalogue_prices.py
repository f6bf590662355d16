"""Pricing's price changes copied into the shop catalogue's price (`commerce_ai.pricing.catalogue_prices`),
over in-memory DynamoDB: once, whatever is redelivered, in order even when the events are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.errors import InvalidInput
from commerce_ai.pricing.catalogue_prices import PriceDisagrees, apply_price_change
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def change(sku: str, old: float | None, new: float, tick: str = "2026-11-28T10:00:00.000Z") -> str:
    body = {"event_id": f"{tick}#{sku}", "type": "price_changed", "sku": sku, "old_price": old, "new_price": new}
    return json.dumps({**body, "reason": "r", "rules": [], "tick": tick})


@pytest.fixture
def catalog() -> Catalog:
    store = Catalog("catalog", FakeDynamoDB(key_schemas={"catalog": ("item_id",)}))
    store.put(CatalogItem(item_id="oj-2-1", title="Orange juice", category="juice", price=2.49, updated_at=NOW))
    return store


def price(catalog: Catalog) -> float | None:
    item = catalog.get("oj-2-1")
    assert item is not None
    return item.price


def test_a_change_is_copied_once_and_a_redelivery_changes_nothing(catalog: Catalog) -> None:
    assert apply_price_change(catalog, change("oj-2-1", 2.49, 2.29), NOW) == "applied"
    assert price(catalog) == 2.29
    assert apply_price_change(catalog, change("oj-2-1", 2.49, 2.29), NOW) == "applied"  # the same event again
    assert price(catalog) == 2.29
    item = catalog.get("oj-2-1")
    assert item is not None and item.title == "Orange juice", "only the price (and its time) is written"


def test_events_out_of_order_converge_once_the_earlier_one_arrives(catalog: Catalog) -> None:
    later = change("oj-2-1", 2.29, 2.09, "2026-11-28T10:15:00.000Z")
    with pytest.raises(PriceDisagrees, match="earlier change"):
        apply_price_change(catalog, later, NOW)  # refused: retried by the queue
    assert price(catalog) == 2.49
    apply_price_change(catalog, change("oj-2-1", 2.49, 2.29), NOW)
    apply_price_change(catalog, later, NOW)  # the retry
    assert price(catalog) == 2.09


def test_a_sku_the_catalogue_does_not_list_is_skipped_and_a_bad_message_refused(catalog: Catalog) -> None:
    assert apply_price_change(catalog, change("oj-9-9", 1.0, 1.1), NOW) == "not_in_catalogue"
    assert catalog.get("oj-9-9") is None, "never created by a price change"
    for body in ("{not json", json.dumps({"type": "price_changed", "sku": "oj-2-1"}), change("bad sku!", 1.0, 1.1)):
        with pytest.raises(InvalidInput, match="price change"):
            apply_price_change(catalog, body, NOW)

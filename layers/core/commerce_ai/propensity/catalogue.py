"""Item facts (category, brand, list price) for the profile's affinities and price sensitivity.

From the shop's shared catalogue (`commerce_ai.catalog.store.Catalog`, table `CATALOG_TABLE`) when this
code runs beside it; an item it does not know, or a deployment without it, falls back to what the event
itself carries in `properties` (`category`, `brand`, `list_price`; see `profile.facts_from_properties`).
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from typing import Any

from commerce_ai.propensity.profile import ItemFacts
from commerce_ai.stream.schema import BehaviourEvent

CATALOG_TABLE = "CATALOG_TABLE"  # the catalogue's own setting; read here only to know if it is there


@cache
def _catalog() -> Any | None:
    if not os.environ.get(CATALOG_TABLE, "").strip():
        return None
    try:
        store = importlib.import_module("commerce_ai.catalog.store")
    except ImportError:
        return None
    return store.Catalog.from_settings()


def facts_for(event: BehaviourEvent) -> ItemFacts | None:
    """The catalogue's facts about the event's item, or None (the profile then reads `properties`)."""
    catalog = _catalog()
    if catalog is None or event.item_id is None:
        return None
    item = catalog.get(event.item_id)
    if item is None:
        return None
    price = getattr(item, "price", None)
    amount = getattr(price, "amount", price)
    return ItemFacts(
        category=getattr(item, "category", None),
        brand=getattr(item, "brand", None),
        list_price=float(amount) if isinstance(amount, int | float) and amount > 0 else None,
    )

"""Item facts (category, brand, list price) for the profile's affinities and price sensitivity, from the
shop's shared catalogue (`commerce_ai.catalog`, table `CATALOG_TABLE`).

An item the catalogue does not know, or a function not given the catalogue, falls back to what the event
itself carries in `properties` (`category`, `brand`, `list_price`; see `profile.facts_from_properties`).
"""

from __future__ import annotations

from functools import cache

from commerce_ai.catalog.settings import settings as catalog_settings
from commerce_ai.catalog.store import Catalog
from commerce_ai.propensity.profile import ItemFacts
from commerce_ai.stream.schema import BehaviourEvent


@cache
def _catalog() -> Catalog | None:
    table = catalog_settings().catalog_table
    return Catalog(table) if table else None


def facts_for(event: BehaviourEvent) -> ItemFacts | None:
    """The catalogue's facts about the event's item, or None (the profile then reads `properties`)."""
    catalog = _catalog()
    if catalog is None or event.item_id is None:
        return None
    item = catalog.get(event.item_id)
    if item is None:
        return None
    price = float(item.price) if item.price else None
    return ItemFacts(category=item.category, brand=item.brand, list_price=price)

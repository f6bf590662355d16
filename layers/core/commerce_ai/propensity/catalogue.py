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


@cache
def _catalog() -> Catalog | None:
    table = catalog_settings().catalog_table
    return Catalog(table) if table else None


def facts_for_items(item_ids: set[str]) -> dict[str, ItemFacts]:
    """The catalogue's facts about the items among `item_ids` it knows (one BatchGetItem per 100 ids: the
    profile consumer asks once per queue batch); an item left out is folded from its event's `properties`."""
    catalog = _catalog()
    if catalog is None or not item_ids:
        return {}
    return {
        item_id: ItemFacts(
            category=item.category, brand=item.brand, list_price=float(item.price) if item.price else None
        )
        for item_id, item in catalog.get_many(sorted(item_ids)).items()
    }

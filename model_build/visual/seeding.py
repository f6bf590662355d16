"""`make run`'s seed: the Fashion-MNIST catalogue images as items of the shop's catalogue.

Item `fmnist-<index>` (its index in the train split) gets its category's standard name, a title, and its
colourised variant's colour and pattern (`model_build.visual.colourise`) as attributes. No price; in stock.
Only items the catalogue lacks are added, so an admin's changes survive the next `up`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.visual.categories import CATEGORIES
from model_build.visual.colourise import striped, tint_of
from model_build.visual.data import FashionMnist, read_fashion_mnist


def fashion_items(data: FashionMnist, now: datetime) -> list[CatalogItem]:
    items = []
    for index, label in enumerate(data.train.labels):
        colour = tint_of(index)[0]
        pattern = "striped" if striped(index) else "plain"
        category = CATEGORIES[int(label)]
        items.append(
            CatalogItem(
                item_id=data.item_id(index),
                title=f"{colour.capitalize()} {pattern} {category.lower()} #{index}",
                category=category,
                attributes={"colour": colour, "pattern": pattern, "source": "fashion-mnist"},
                updated_at=now,
            )
        )
    return items


def seed_catalogue(catalogue: Catalog, now: datetime | None = None, data: FashionMnist | None = None) -> int:
    """Add the Fashion-MNIST items the catalogue does not hold yet; returns how many were added."""
    items = fashion_items(data or read_fashion_mnist(), now or datetime.now(UTC))
    # A fresh stack holds none of them: three reads say so, instead of 600 BatchGetItem calls for nothing.
    probes = [items[0].item_id, items[len(items) // 2].item_id, items[-1].item_id]
    present = catalogue.get_many(item.item_id for item in items) if catalogue.get_many(probes) else {}
    return catalogue.put_many(item for item in items if item.item_id not in present)

"""`make run`'s seed: the MovieLens items into the shop's catalogue, so stock and filters work on them.

Each movie becomes an item with its title (and year), its first genre as `category` and every genre in the
`categories` attribute (pipe-separated; the recommender's filters match any of them). MovieLens has no
prices or stock: no price, in stock. Only items the catalogue lacks are added, so an admin's changes (an
item marked out of stock) survive the next `up`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from model_build.recommendations.data import read_movielens


def movielens_items(now: datetime) -> list[CatalogItem]:
    items = read_movielens().items
    return [
        CatalogItem(
            item_id=str(row.item_id),
            title=str(row.title),
            category=row.categories[0] if row.categories else "unknown",
            attributes={"categories": "|".join(row.categories)} if row.categories else {},
            updated_at=now,
        )
        for row in items.itertuples(index=False)
    ]


def seed_catalogue(catalogue: Catalog, now: datetime | None = None) -> int:
    """Add the MovieLens items the catalogue does not hold yet; returns how many were added."""
    items = movielens_items(now or datetime.now(UTC))
    present = catalogue.get_many(item.item_id for item in items)
    return catalogue.put_many(item for item in items if item.item_id not in present)

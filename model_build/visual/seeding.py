"""`make run`'s seed: the Fashion-MNIST catalogue images as items of the shop's catalogue.

Item `fmnist-<index>` (its index in the train split) gets its category's standard name, a title, and its
colourised variant's colour and pattern (`model_build.visual.colourise`) as attributes. No price; in stock.

The 60,000 items reach the catalogue the way a shop's own feed does: as JSON-lines files under
`uploads/catalog/fashion-mnist/`, which the catalogue's bulk import (`CatalogImportFunction`) writes after
the stack is ready, a `.status.json` beside each part when it is done. Writing them inside `up` cost about
160 s on the emulator (BatchWriteItem at about 2.7 ms an item), on every start, since the emulator keeps
nothing between runs; that alone broke the 60 s budget of a cached start. Search answers meanwhile: an item
the catalogue does not hold yet comes back without a title.

Only items the catalogue lacks are queued, so on a store that keeps its data (LocalStack with persistence,
AWS) a second `up` queues nothing and an admin's changes survive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from commerce_ai.catalog.imports import PREFIX
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.uploads import Uploads
from commerce_ai.visual.categories import CATEGORIES
from model_build.visual.colourise import striped, tint_of
from model_build.visual.data import FashionMnist, read_fashion_mnist

FEED_PREFIX = f"{PREFIX}fashion-mnist/"
# A part is imported by one invocation of CatalogImportFunction (300 s timeout): 6,000 items take about
# 16 s on a quiet emulator and stay well inside it at five times that under load.
PART_ITEMS = 6_000


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


@dataclass(frozen=True)
class QueuedFeed:
    items: int
    parts: list[str]


def feed_part(items: Sequence[CatalogItem]) -> bytes:
    """One JSON-lines import file: each item's `PUT /catalog/items/{item_id}` fields and its id."""
    lines = (json.dumps(item.model_dump(mode="json", exclude={"updated_at"}, exclude_none=True)) for item in items)
    return ("\n".join(lines) + "\n").encode()


def seed_catalogue(
    catalogue: Catalog, uploads: Uploads, now: datetime | None = None, data: FashionMnist | None = None
) -> QueuedFeed:
    """Queue the Fashion-MNIST items the catalogue does not hold yet for the bulk import."""
    items = fashion_items(data or read_fashion_mnist(), now or datetime.now(UTC))
    # A fresh stack holds none of them: three reads say so, instead of 2,400 BatchGetItem calls for nothing.
    probes = [items[0].item_id, items[len(items) // 2].item_id, items[-1].item_id]
    present = catalogue.get_many(item.item_id for item in items) if catalogue.get_many(probes) else {}
    missing = [item for item in items if item.item_id not in present]
    parts = []
    for number, start in enumerate(range(0, len(missing), PART_ITEMS)):
        key = f"{FEED_PREFIX}part-{number:02d}.jsonl"
        uploads.write(key, feed_part(missing[start : start + PART_ITEMS]), "application/x-ndjson")
        parts.append(key)
    return QueuedFeed(items=len(missing), parts=parts)

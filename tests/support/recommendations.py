"""Recommendations' test helpers, shared by its unit and integration tests: a small synthetic shop (users
with a taste for one category, items in categories) written as the user files `build` reads, and a real
`recommendations-ranker` artifact built from it by the production pipeline (a few seconds)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from commerce_ai.catalog.items import CatalogItem
from commerce_ai.stream.schema import BehaviourEvent
from model_build import Built

CATEGORIES = ["books", "games", "music", "garden", "kitchen"]
SMALL_SHOP = {"users": 90, "items": 160, "per_user": 24, "seed": 5}


def write_small_shop(directory: Path) -> tuple[Path, Path]:
    """`interactions.csv` and `items.csv`: each user mostly takes items of their favourite category, in
    runs of similar items, so CF and the ranker have something to learn."""
    rng = np.random.default_rng(SMALL_SHOP["seed"])
    directory.mkdir(parents=True, exist_ok=True)
    items = directory / "items.csv"
    n_items = SMALL_SHOP["items"]
    with items.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["item_id", "title", "category", "price", "in_stock"])
        for i in range(n_items):
            writer.writerow([f"i-{i}", f"Item {i}", CATEGORIES[i % len(CATEGORIES)], f"{5 + i % 40}.99", "true"])
    interactions = directory / "interactions.csv"
    with interactions.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user_id", "item_id", "timestamp", "event_type"])
        for u in range(SMALL_SHOP["users"]):
            favourite = u % len(CATEGORIES)
            liked = [i for i in range(n_items) if i % len(CATEGORIES) == favourite]
            others = [i for i in range(n_items) if i % len(CATEGORIES) != favourite]
            start = int(rng.integers(0, len(liked)))
            chosen: list[int] = []
            for k in range(SMALL_SHOP["per_user"]):
                pick = liked[(start + k) % len(liked)] if rng.random() < 0.8 else int(rng.choice(others))
                if pick not in chosen:
                    chosen.append(pick)
            for k, i in enumerate(chosen):
                writer.writerow([f"u-{u}", f"i-{i}", 1_790_000_000 + u * 10_000 + k * 60, "purchase"])
    return interactions, items


def built_recommendations(directory: Path) -> list[Built]:
    """A real `recommendations-ranker` from the small shop, through `build(..., data=, items=)`."""
    from model_build.recommendations import build

    interactions, items = write_small_shop(directory / "data")
    return build(directory / "out", data=interactions, items=items)


def small_shop_events(directory: Path, now: datetime) -> list[BehaviourEvent]:
    """The small shop's interactions as behaviour events of the last days before `now` (what the daily
    retrain reads from the archive), in the same order and spacing."""
    interactions, _ = write_small_shop(directory)
    with interactions.open() as rows:
        records = list(csv.DictReader(rows))
    first = min(int(r["timestamp"]) for r in records)
    start = now - timedelta(days=12)
    return [
        BehaviourEvent.model_validate(
            {
                "event_id": f"shop-{n}",
                "user_id": r["user_id"],
                "session_id": f"s-{r['user_id']}",
                "event_type": r["event_type"],
                "timestamp": start + timedelta(seconds=int(r["timestamp"]) - first),
                "item_id": r["item_id"],
            }
        )
        for n, r in enumerate(records)
    ]


def small_shop_items(directory: Path, now: datetime) -> list[CatalogItem]:
    """The small shop's items as catalogue items, plus one new item nobody has touched (`i-new`)."""
    _, items = write_small_shop(directory)
    with items.open() as rows:
        listed = [
            CatalogItem(
                item_id=r["item_id"], title=r["title"], category=r["category"], price=float(r["price"]), updated_at=now
            )
            for r in csv.DictReader(rows)
        ]
    new = CatalogItem(item_id="i-new", title="Item new", category="books", price=9.99, updated_at=now)
    return [*listed, new]

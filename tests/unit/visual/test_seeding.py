"""The seed queues Fashion-MNIST's items for the catalogue's bulk import once, and never undoes an admin's change."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from commerce_ai.catalog.imports import import_items, is_import
from commerce_ai.catalog.store import Catalog
from commerce_ai.uploads import Uploads
from model_build.visual import seeding
from model_build.visual.data import FashionMnist, Split
from model_build.visual.seeding import FEED_PREFIX, seed_catalogue
from tests.unit.fakes import FakeDynamoDB, FakeS3


def _data(n: int = 30) -> FashionMnist:
    split = Split(np.zeros((n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.int64) % 10)
    return FashionMnist(train=split, test=split)


def _import_every_part(s3: FakeS3, catalogue: Catalog) -> None:
    """What CatalogImportFunction does with each part's notification."""
    for (_bucket, key), data in list(s3.objects.items()):
        if is_import(key):
            assert import_items(catalogue, key, data, datetime.now(UTC)).status == "imported"


def test_items_are_queued_in_parts_the_bulk_import_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seeding, "PART_ITEMS", 12)
    catalogue = Catalog("catalog", FakeDynamoDB(key_schemas={"catalog": ("item_id",)}))
    s3 = FakeS3()
    feed = seed_catalogue(catalogue, Uploads("uploads", s3), data=_data())
    assert feed.items == 30 and feed.parts == [f"{FEED_PREFIX}part-{n:02d}.jsonl" for n in range(3)]
    assert all(is_import(key) for key in feed.parts)
    _import_every_part(s3, catalogue)
    item = catalogue.get("fmnist-3")
    assert item is not None and item.category == "Dress" and item.attributes["colour"] == "green"
    assert item.title.startswith("Green") and catalogue.get("fmnist-29") is not None


def test_a_catalogue_that_holds_the_items_queues_nothing_and_an_admin_change_survives() -> None:
    catalogue = Catalog("catalog", FakeDynamoDB(key_schemas={"catalog": ("item_id",)}))
    s3 = FakeS3()
    seed_catalogue(catalogue, Uploads("uploads", s3), data=_data())
    _import_every_part(s3, catalogue)
    item = catalogue.get("fmnist-3")
    assert item is not None
    catalogue.put(item.model_copy(update={"title": "Renamed by an admin"}))
    s3.objects.clear()
    assert seed_catalogue(catalogue, Uploads("uploads", s3), data=_data()).items == 0
    assert s3.objects == {}
    again = catalogue.get("fmnist-3")
    assert again is not None and again.title == "Renamed by an admin"


def test_only_the_missing_items_are_queued() -> None:
    catalogue = Catalog("catalog", FakeDynamoDB(key_schemas={"catalog": ("item_id",)}))
    s3 = FakeS3()
    seed_catalogue(catalogue, Uploads("uploads", s3), data=_data())
    _import_every_part(s3, catalogue)
    assert catalogue.delete("fmnist-7")
    s3.objects.clear()
    feed = seed_catalogue(catalogue, Uploads("uploads", s3), data=_data())
    assert feed.items == 1 and b"fmnist-7" in s3.objects[("uploads", feed.parts[0])]

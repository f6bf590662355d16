"""The seed puts Fashion-MNIST's items into the catalogue once, and never undoes an admin's change."""

from __future__ import annotations

import numpy as np

from commerce_ai.catalog.store import Catalog
from model_build.visual.data import FashionMnist, Split
from model_build.visual.seeding import seed_catalogue
from tests.unit.fakes import FakeDynamoDB


def _data(n: int = 30) -> FashionMnist:
    split = Split(np.zeros((n, 28, 28), dtype=np.uint8), np.arange(n, dtype=np.int64) % 10)
    return FashionMnist(train=split, test=split)


def test_items_are_added_once_and_an_admin_change_survives() -> None:
    catalogue = Catalog("catalog", FakeDynamoDB(key_schemas={"catalog": ("item_id",)}))
    assert seed_catalogue(catalogue, data=_data()) == 30
    item = catalogue.get("fmnist-3")
    assert item is not None and item.category == "Dress" and item.attributes["colour"] == "green"
    catalogue.put(item.model_copy(update={"title": "Renamed by an admin"}))
    assert seed_catalogue(catalogue, data=_data()) == 0
    again = catalogue.get("fmnist-3")
    assert again is not None and again.title == "Renamed by an admin"

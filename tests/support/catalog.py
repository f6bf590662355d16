"""Test helpers for the pricing catalog's storage."""

from __future__ import annotations

from typing import Any

from commerce_ai.pricing.catalog import CatalogStore, Entries, shard_of


def store_raw(catalog: CatalogStore, sku: str, entry: dict[str, Any]) -> None:
    """Put an entry into a SKU's shard as it is, valid or not (as another tool or an old version might)."""

    def put(entries: Entries) -> None:
        entries[sku] = entry

    catalog._mutate(shard_of(sku), put)

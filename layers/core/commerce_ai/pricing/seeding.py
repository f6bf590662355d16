"""Seed the pricing catalog from the active demand model's serving table: every SKU the model was trained
on, at its latest observed price and cost. Only SKUs not in the catalog yet are added, so seeding again
(every `commerce-ai up`) never undoes a tick's price or an admin's settings."""

from __future__ import annotations

from pathlib import Path

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.pricing.catalog import CatalogStore, SkuState
from commerce_ai.pricing.demand import MODEL_NAME, SERVING_TABLE, ServingTable


def seed_states(table: ServingTable) -> list[SkuState]:
    return [
        SkuState(sku=sku, price=profile.price, cost=profile.cost, history=[profile.price])
        for sku, profile in sorted(table.skus.items())
        if profile.price is not None and profile.cost is not None and profile.cost < profile.price
    ]


def seed_catalog(catalog: CatalogStore, store: ArtifactStore, registry: ModelRegistry, cache_dir: Path) -> int | None:
    """The number of SKUs added; None while no demand model is active."""
    version = registry.active_version(MODEL_NAME)
    if version is None:
        return None
    directory = store.download(store.read_manifest(MODEL_NAME, version), cache_dir)
    table = ServingTable.model_validate_json((directory / SERVING_TABLE).read_bytes())
    return catalog.seed(seed_states(table))

"""What pricing handlers share: the stores and the served demand model, built once per container."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.config import settings
from commerce_ai.pricing.catalog import CatalogStore
from commerce_ai.pricing.competitors import competitor_index, tracked
from commerce_ai.pricing.decisions import DecisionLog
from commerce_ai.pricing.demand import MODEL_NAME, DemandModel, open_demand_model
from commerce_ai.pricing.features import FEATURE_NAMES
from commerce_ai.pricing.observations import CompetitorPrice, CompetitorPriceStore, Outcome
from commerce_ai.pricing.ticks import TickReport, run_tick


def catalog() -> CatalogStore:
    return CatalogStore(settings().need("pricing_catalog_table"))


def decision_log() -> DecisionLog:
    return DecisionLog(settings().need("pricing_table"))


@cache
def demand_loader() -> ModelLoader[DemandModel]:
    return ModelLoader(MODEL_NAME, expected_features=FEATURE_NAMES, opener=open_demand_model)


def demand_model() -> LoadedModel[DemandModel]:
    """The active demand model; ModelUnavailable (503) while none can be served."""
    return demand_loader().get()


def reprice_now(now: datetime, tick: str, skus: list[str] | None = None, dry_run: bool = False) -> TickReport:
    return run_tick(catalog(), decision_log(), demand_model(), now, tick, skus=skus, dry_run=dry_run)


def record_competitor_price(observation: CompetitorPrice, now: datetime) -> Outcome:
    """Store the observation; when it is the competitor's latest, refresh the SKU's competitor index on
    its catalog entry (one query of the SKU's latest prices), which the tick then reads with the catalog."""
    store = CompetitorPriceStore(settings().need("pricing_table"))
    outcome = store.record(observation)
    if outcome == "latest":
        latest = store.latest(observation.sku)
        index = competitor_index(latest, now)
        if index is not None:
            # Stamped with the oldest observation it uses, so the tick's freshness check covers every one.
            oldest = min(o.observed_at for o in tracked(latest, now))
            catalog().set_competitor_index(observation.sku, index, oldest)
    return outcome

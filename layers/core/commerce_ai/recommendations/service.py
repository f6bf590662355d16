"""What the recommendation handlers share, built once per container: the served ranker (or an experiment
arm's), the session store, the catalogue lookup. The pipeline itself is `engine`."""

from __future__ import annotations

import time
from functools import cache

from commerce_ai import experiments
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.settings import settings as catalog_settings
from commerce_ai.catalog.store import Catalog
from commerce_ai.config import ConfigError
from commerce_ai.errors import NotFound
from commerce_ai.experiments.serving import Arm
from commerce_ai.recommendations import engine
from commerce_ai.recommendations.contract import ExperimentArm, RecommendedItem
from commerce_ai.recommendations.filters import ItemFacts
from commerce_ai.recommendations.model import EXPECTED_FEATURES, MODEL_NAME, ServedModel, open_recommender
from commerce_ai.recommendations.settings import settings
from commerce_ai.telemetry import logger


@cache
def model_loader() -> ModelLoader[ServedModel]:
    return ModelLoader(MODEL_NAME, expected_features=EXPECTED_FEATURES, opener=open_recommender)


def arm_for(user_id: str) -> Arm | None:
    """The user's arm of the ranker experiment (RECOMMENDATION_EXPERIMENT), or None when it is not
    defined: then the active version serves everyone. An unreadable experiments table never stops serving."""
    name = settings().recommendation_experiment
    if not name:
        return None
    try:
        return experiments.assign(name, user_id)
    except (NotFound, ConfigError):
        return None
    except Exception as exc:  # the experiments table is down: serve the champion, say no arm
        logger.warning(
            "experiment arm could not be read; serving the active ranker", extra={"error": type(exc).__name__}
        )
        return None


def served(arm: Arm | None) -> LoadedModel[ServedModel]:
    if arm is not None and arm.model is not None and arm.model.model == MODEL_NAME:
        return experiments.model_for(arm, expected_features=EXPECTED_FEATURES, opener=open_recommender)
    return model_loader().get()


def arm_field(arm: Arm | None) -> ExperimentArm | None:
    return None if arm is None else ExperimentArm(name=arm.experiment, arm=arm.name)


@cache
def catalogue() -> Catalog | None:
    """The shop's catalogue (CATALOG_TABLE); None where the function has none configured."""
    return Catalog.from_settings() if catalog_settings().catalog_table else None


def facts_of(item: CatalogItem) -> ItemFacts:
    """A catalogue item as the engine sees it. Its `category`, then any of the pipe-separated
    `categories` attribute (MovieLens' genres after the seed), are the categories a filter matches."""
    extra = item.attributes.get("categories")
    more = [c for c in str(extra).split("|") if c] if isinstance(extra, str) else []
    categories = tuple(dict.fromkeys([item.category, *more]))
    return ItemFacts(item.item_id, item.title, categories, item.price, item.in_stock, item.brand, dict(item.attributes))


def item_source(ids: list[str]) -> dict[str, ItemFacts]:
    """Stock, price and categories of these items from the shared catalogue (one BatchGetItem per 100);
    an item it does not hold is described from the model by the engine."""
    shop = catalogue()
    if shop is None:
        return {}
    return {item_id: facts_of(item) for item_id, item in shop.get_many(ids).items()}


def now() -> float:
    return time.time()


def view(item: engine.Recommended) -> RecommendedItem:
    return RecommendedItem(
        item_id=item.item_id,
        title=item.title,
        category=item.category,
        score=max(0.0, min(1.0, item.score)),
        reason=item.reason,
    )

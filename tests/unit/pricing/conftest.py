"""A real served demand model for the serving-side pricing tests, and in-memory pricing tables.

The model is a `pricing-demand` artifact (LightGBM -> ONNX) trained on a synthetic market with elasticity
-2.5 and level log(100) at price 2.0 (tests/support/pricing.py), opened the way ModelLoader opens it.
It is built once per session (about a second).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import STAGE_INDEX, CatalogStore
from commerce_ai.pricing.decisions import DecisionLog
from commerce_ai.pricing.demand import MODEL_NAME, DemandModel, open_demand_model
from model_build import Built, manifest_for
from tests.support.pricing import built_pricing_demand
from tests.unit.fakes import FakeDynamoDB

CATALOG_TABLE = "catalog-table"
PRICING_TABLE = "pricing-table"
# SKUs the serving table knows (sku -> (price, cost)); any other SKU gets the default level and the
# pooled elasticity, which in this synthetic market are the same.
KNOWN_SKUS = {"oj-known": (2.0, 1.2)}


@pytest.fixture(scope="session")
def demand_built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return built_pricing_demand(tmp_path_factory.mktemp("pricing-demand"), KNOWN_SKUS)


@pytest.fixture(scope="session")
def demand_model(demand_built: Built) -> LoadedModel[DemandModel]:
    manifest = manifest_for(demand_built, "v1")
    model = open_demand_model(manifest, demand_built.directory)
    return LoadedModel(MODEL_NAME, "v1", manifest, model, demand_built.directory)


@dataclass
class PricingTables:
    ddb: FakeDynamoDB
    catalog: CatalogStore
    log: DecisionLog

    def operations(self, table: str) -> list[str]:
        return [operation for operation, params in self.ddb.log if params["TableName"] == table]


@pytest.fixture
def tables() -> PricingTables:
    """The catalog and the pricing table (decision audit) as the template keys them, in memory."""
    ddb = FakeDynamoDB(
        key_schemas={CATALOG_TABLE: ("sku",), PRICING_TABLE: ("sku", "item")},
        index_schemas={(CATALOG_TABLE, STAGE_INDEX): ("stage", "sku")},
    )
    return PricingTables(ddb, CatalogStore(CATALOG_TABLE, ddb), DecisionLog(PRICING_TABLE, ddb))

"""The served demand model, `pricing-demand`: LightGBM as ONNX plus the serving table trained beside it.

The artifact holds `model.onnx` (log weekly units from `features.FEATURE_NAMES`) and `serving.json`:
each SKU's demand level, brand and own-price elasticity (the brand's, from the pooled log-log model; the
shipped myopic policy prices with it, as in the policy study), the seed price and cost the catalog
starts from, and Duan's smearing factor. A SKU the model never saw gets the average level and the pooled
elasticity, so an admin-created SKU is priced too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.artifacts.frameworks import open_onnx
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.pricing.features import CROSS_PRICES, demand_features

MODEL_NAME = "pricing-demand"
SERVING_TABLE = "serving.json"
POLICY = "myopic-v1"  # the shipped policy (reports/pricing.md); recorded on every decision


class SkuProfile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    level: float  # mean log weekly units in training
    brand: int = 0
    elasticity: float = Field(lt=0)
    # Where the catalog starts when it is seeded from the training data (latest week's price and cost).
    price: float | None = Field(default=None, gt=0)
    cost: float | None = Field(default=None, gt=0)


class ServingTable(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    output: Literal["log_units"]
    smearing: float = Field(gt=0)
    default_level: float
    pooled_elasticity: float = Field(lt=0)
    skus: dict[str, SkuProfile]

    def profile(self, sku: str) -> SkuProfile:
        known = self.skus.get(sku)
        return known or SkuProfile(level=self.default_level, elasticity=self.pooled_elasticity)


@dataclass(frozen=True)
class DemandModel:
    session: Any
    table: ServingTable

    def weekly_units(
        self,
        skus: Sequence[str],
        prices: Sequence[float],
        competitor_index: Sequence[float | None],
        now: datetime,
    ) -> Any:
        """Expected units per week for each (SKU, price), in one batched inference.

        The competitor index stands in for every cross-price slot: serving knows one reference price per
        SKU, not each rival brand's. Without one, the slots fall back to the own price (relative price 0).
        """
        return self.predict_units(demand_features(self.feature_columns(skus, prices, competitor_index, now)))

    def feature_columns(
        self,
        skus: Sequence[str],
        prices: Sequence[float],
        competitor_index: Sequence[float | None],
        now: datetime,
    ) -> dict[str, Any]:
        """The columns `demand_features` turns into the model's input for these (SKU, price) rows."""
        import numpy as np

        profiles = [self.table.profile(s) for s in skus]
        n = len(profiles)
        index = np.array([math.nan if c is None else c for c in competitor_index], dtype=np.float64)
        columns: dict[str, Any] = {
            "price": np.asarray(prices, dtype=np.float64),
            "deal": np.zeros(n),
            "feat": np.zeros(n),
            "week_of_year": np.full(n, min(now.isocalendar().week, 52), dtype=np.float64),
            "sku_level": np.array([p.level for p in profiles]),
            "brand": np.array([p.brand for p in profiles], dtype=np.float64),
        }
        for slot in range(1, CROSS_PRICES + 1):
            columns[f"cross_price_{slot}"] = index
        return columns

    def predict_units(self, features: Any) -> Any:
        import numpy as np

        (log_units,) = self.session.run(None, {"features": features})[:1]
        return np.exp(np.asarray(log_units, dtype=np.float64).reshape(-1)) * self.table.smearing


def open_demand_model(manifest: Manifest, directory: Path) -> DemandModel:
    """ModelLoader opener: the verified ONNX session and its validated serving table."""
    return DemandModel(
        open_onnx(manifest, directory), ServingTable.model_validate_json((directory / SERVING_TABLE).read_bytes())
    )

"""The served demand model, `pricing-demand`: LightGBM as ONNX plus the serving table trained beside it.

The artifact holds `model.onnx` (log weekly units from `features.FEATURE_NAMES`) and `serving.json`:
each SKU's demand level, brand, market and own-price elasticity (the brand's, from the pooled log-log
model; the shipped myopic policy prices with it, as in the policy study), the seed price and cost the
catalog starts from, and Duan's smearing factor. A SKU the model never saw gets the average level and
the pooled elasticity, so an admin-created SKU is priced too.

Cross prices are filled as the model learned them: slot b holds brand b's price in the SKU's market (for
Dominick's OJ, the same store's other brands, read from the catalog), and the SKU's own brand slot its
own price. A market member missing from the catalog (never seeded, say, or its item unreadable) lends
its last price in training instead; a slot with no such SKU at all takes the competitor index, or else the
own price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from commerce_ai.artifacts.frameworks import open_onnx
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.pricing.features import CROSS_PRICES, demand_features

MODEL_NAME = "pricing-demand"
SERVING_TABLE = "serving.json"
POLICY = "myopic-v1"  # the shipped policy (reports/pricing.md); recorded on every decision


class SkuProfile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    level: float  # mean log weekly units in training
    brand: int = 0  # its cross-price slot (1..CROSS_PRICES); 0: none
    market: str | None = None  # where it competes with the other brands' SKUs (OJ: the store)
    elasticity: float = Field(lt=0)
    # Where the catalog starts when it is seeded from the training data (latest week's price and cost).
    price: float | None = Field(default=None, gt=0)
    cost: float | None = Field(default=None, gt=0)
    # The lowest and highest weekly price the model saw for this SKU: a quote outside them is an
    # extrapolation (trees are flat beyond their data). None for artifacts built before it was recorded.
    price_range: tuple[float, float] | None = None

    def extrapolates(self, price: float) -> bool | None:
        """Whether the model is asked about a price it never saw this SKU at; None if unknown."""
        if self.price_range is None:
            return None
        low, high = self.price_range
        return not low <= price <= high


class ServingTable(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    output: Literal["log_units"]
    smearing: float = Field(gt=0)
    default_level: float
    pooled_elasticity: float = Field(lt=0)
    skus: dict[str, SkuProfile]
    _markets: dict[str, list[tuple[int, str]]] = PrivateAttr(default_factory=dict)
    _indexed: dict[str, SkuProfile] | None = PrivateAttr(default=None)

    def _market_index(self) -> dict[str, list[tuple[int, str]]]:
        # Built from the `skus` it was built for: a copy with other SKUs (model_copy(update=...)) rebuilds.
        if self._indexed is not self.skus:
            markets: dict[str, list[tuple[int, str]]] = {}
            for sku, profile in self.skus.items():
                if profile.market is not None and 1 <= profile.brand <= CROSS_PRICES:
                    markets.setdefault(profile.market, []).append((profile.brand, sku))
            self._markets, self._indexed = markets, self.skus
        return self._markets

    def profile(self, sku: str) -> SkuProfile:
        known = self.skus.get(sku)
        return known or SkuProfile(level=self.default_level, elasticity=self.pooled_elasticity)

    def knows(self, sku: str) -> bool:
        return sku in self.skus

    def market_slots(self, market: str) -> list[tuple[int, str]]:
        """(cross-price slot, SKU) for every SKU of the market the model knows."""
        return self._market_index().get(market, [])

    def market_members(self, sku: str) -> list[str]:
        """The SKUs whose prices fill this SKU's cross-price slots (its own included)."""
        market = self.profile(sku).market
        return [member for _, member in self.market_slots(market)] if market is not None else []


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
        catalog_prices: Mapping[str, float] | None = None,
    ) -> Any:
        """Expected units per week for each (SKU, price), in one batched inference. `catalog_prices` are
        the current prices of the SKUs' market members (see the module docstring)."""
        columns = self.feature_columns(skus, prices, competitor_index, now, catalog_prices)
        return self.predict_units(demand_features(columns))

    def feature_columns(
        self,
        skus: Sequence[str],
        prices: Sequence[float],
        competitor_index: Sequence[float | None],
        now: datetime,
        catalog_prices: Mapping[str, float] | None = None,
    ) -> dict[str, Any]:
        """The columns `demand_features` turns into the model's input for these (SKU, price) rows."""
        import numpy as np

        profiles = [self.table.profile(s) for s in skus]
        n = len(profiles)
        price = np.asarray(prices, dtype=np.float64)
        brand = np.array([p.brand for p in profiles], dtype=np.float64)
        index = np.array([math.nan if c is None else c for c in competitor_index], dtype=np.float64)
        rivals = self._market_prices(profiles, catalog_prices or {})
        columns: dict[str, Any] = {
            "price": price,
            "deal": np.zeros(n),
            "feat": np.zeros(n),
            "week_of_year": np.full(n, min(now.isocalendar().week, 52), dtype=np.float64),
            "sku_level": np.array([p.level for p in profiles]),
            "brand": brand,
        }
        for slot in range(1, CROSS_PRICES + 1):
            known = rivals[:, slot - 1]
            columns[f"cross_price_{slot}"] = np.where(brand == slot, price, np.where(np.isfinite(known), known, index))
        return columns

    def _market_prices(self, profiles: Sequence[SkuProfile], catalog_prices: Mapping[str, float]) -> Any:
        """[n, CROSS_PRICES]: each row's market members' catalog prices by slot, NaN where unknown."""
        import numpy as np

        rows = np.full((len(profiles), CROSS_PRICES), np.nan)
        by_market: dict[str, Any] = {}
        for row, profile in enumerate(profiles):
            if profile.market is None:
                continue
            slots = by_market.get(profile.market)
            if slots is None:
                slots = np.full(CROSS_PRICES, np.nan)
                for slot, member in self.table.market_slots(profile.market):
                    found = catalog_prices.get(member)
                    if found is None or not (math.isfinite(found) and found > 0):
                        found = self.table.skus[member].price  # not in the catalog: its last price in training
                    if found is not None:
                        slots[slot - 1] = found
                by_market[profile.market] = slots
            rows[row] = slots
        return rows

    def predict_units(self, features: Any) -> Any:
        import numpy as np

        (log_units,) = self.session.run(None, {"features": features})[:1]
        return np.exp(np.asarray(log_units, dtype=np.float64).reshape(-1)) * self.table.smearing


def open_demand_model(manifest: Manifest, directory: Path) -> DemandModel:
    """ModelLoader opener: the verified ONNX session and its validated serving table."""
    return DemandModel(
        open_onnx(manifest, directory), ServingTable.model_validate_json((directory / SERVING_TABLE).read_bytes())
    )

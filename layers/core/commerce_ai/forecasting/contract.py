"""Forecasting's HTTP contract: bodies of the `/forecasts` and `/inventory` routes (README, "Demand
forecasting and inventory")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, model_validator

from commerce_ai.api_fields import Money, Quantity, Score, Timestamp, identifier_pattern, storable_fields

SKU_ID = identifier_pattern("._:-")  # pricing's SKU ids, a path segment (api_fields)
MAX_PLAN_PERIODS = 8  # the served model's horizons
MAX_HISTORY_SHOWN = 156  # what the table keeps (records.MAX_HISTORY)
_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class SkuPath(BaseModel):
    sku: str = Field(pattern=SKU_ID, description="Letters, digits and . _ : -, up to 128, no `/`.")


class PeriodView(BaseModel):
    model_config = _OUT

    date: date
    p10: Quantity
    p50: Quantity
    p90: Quantity


class ForecastView(BaseModel):
    """A SKU's latest forecast: p10/p50/p90 units per future period (weeks or days, as its history)."""

    model_config = _OUT

    sku: str
    freq: str = Field(description="`W` weekly or `D` daily periods.")
    model_version: str
    run_at: Timestamp
    periods: list[PeriodView] = Field(max_length=MAX_PLAN_PERIODS)


class WhatIfRequest(BaseModel):
    """A price and/or promotion plan for the SKU's next periods (periods after the plan: its last price; no
    prices at all: the pricing capability's current price of the SKU, else its last sold price; no
    promotion). Prices and promotions of the forecast periods are taken as known in advance."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=SKU_ID)
    prices: list[StrictFloat | StrictInt] | None = Field(
        default=None, min_length=1, max_length=MAX_PLAN_PERIODS, description="Unit price per future period (> 0)."
    )
    promotions: list[StrictFloat | StrictInt] | None = Field(
        default=None, min_length=1, max_length=MAX_PLAN_PERIODS, description="Promotion share per period, 0-1."
    )
    periods: StrictInt = Field(default=MAX_PLAN_PERIODS, ge=1, le=MAX_PLAN_PERIODS)

    @model_validator(mode="after")
    def _plan_in_range(self) -> WhatIfRequest:
        if self.prices is not None and any(p <= 0 or p > 1e6 for p in self.prices):
            raise ValueError("prices must be > 0 and at most 1,000,000")
        if self.promotions is not None and any(not 0 <= p <= 1 for p in self.promotions):
            raise ValueError("promotions must be between 0 and 1")
        return self


class WhatIfView(BaseModel):
    model_config = _OUT

    sku: str
    freq: str
    model_version: str
    prices: list[Money] = Field(max_length=MAX_PLAN_PERIODS, description="The price path forecast under.")
    price_source: Literal["request", "pricing", "history"] = Field(
        description="Where the prices after the request's own came from: its last price, pricing's current "
        "price of the SKU, or the last price in the SKU's sales history."
    )
    promotions: list[Score] = Field(max_length=MAX_PLAN_PERIODS)
    periods: list[PeriodView] = Field(max_length=MAX_PLAN_PERIODS)
    baseline_p50_total: Quantity = Field(description="Sum of p50 at the last price and no promotion.")
    plan_p50_total: Quantity


class InventoryChange(BaseModel):
    """An admin's inventory settings for a SKU; lead time and review period in its forecast periods."""

    model_config = ConfigDict(extra="forbid")

    on_hand: StrictFloat | StrictInt = Field(ge=0, le=1e9)
    lead_time_periods: StrictInt = Field(ge=0, le=52)
    review_periods: StrictInt = Field(default=1, ge=1, le=52)
    service_level: StrictFloat = Field(default=0.95, ge=0.5, le=0.999)
    holding_cost: StrictFloat | StrictInt = Field(default=0.0, ge=0, le=1e6, description="Per unit and period.")
    stockout_cost: StrictFloat | StrictInt = Field(default=0.0, ge=0, le=1e6, description="Per unit not sold.")

    _storable = storable_fields("on_hand", "holding_cost", "stockout_cost")


class InventoryView(BaseModel):
    model_config = _OUT

    sku: str
    on_hand: Quantity
    lead_time_periods: int
    review_periods: int
    service_level: Score
    holding_cost: Money
    stockout_cost: Money
    updated_at: Timestamp


class PolicyInputs(BaseModel):
    model_config = _OUT

    inventory: InventoryView
    forecast_model_version: str
    forecast_run_at: Timestamp
    periods: list[PeriodView] = Field(max_length=MAX_PLAN_PERIODS, description="The forecast periods used.")


class PolicyView(BaseModel):
    """Periodic review (R, S) from the forecast quantiles over lead time + review period."""

    model_config = _OUT

    sku: str
    safety_stock: Quantity
    reorder_point: Quantity
    order_up_to: Quantity
    order_quantity: Quantity = Field(description="max(0, order_up_to - on_hand): what to order at this review.")
    expected_demand: Quantity = Field(description="p50 summed over lead time + review period.")
    demand_sd: Quantity
    inputs: PolicyInputs


class PlotQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    history: int = Field(default=52, ge=0, le=MAX_HISTORY_SHOWN, description="Periods of history drawn (0-156).")


class JobPath(BaseModel):
    job: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="A job id, e.g. daily-20261205t040000z.")


class JobView(BaseModel):
    """A forecast job: how many of its chunks are done."""

    model_config = _OUT

    job: str
    state: str = Field(description="`running` until every chunk is done, then `done`.")
    chunks: int
    done: int
    skus: int
    started_at: Timestamp


Day = date  # a field named `date` with a default cannot be annotated `date` in its own class
MAX_ALLOCATION_STORES = 100  # one BatchGetItem per record kind
POLICY_NAMES = ("learned", "fair-share", "proportional")


class AllocationRequest(BaseModel):
    """A distribution centre's stock to ship across stores (SKUs) for their next forecast period."""

    model_config = ConfigDict(extra="forbid")

    supply: StrictInt = Field(ge=0, le=1_000_000_000, description="Whole units to ship, all of them.")
    skus: list[Annotated[str, Field(pattern=SKU_ID)]] = Field(
        min_length=2,
        max_length=MAX_ALLOCATION_STORES,
        description="The stores' SKUs (e.g. one brand at each store), each with a forecast and a history.",
    )
    on_hand: dict[str, StrictFloat | StrictInt] | None = Field(
        default=None,
        description="Units on hand per SKU; a SKU not named here takes its inventory settings' `on_hand`, else 0.",
    )
    policy: Literal["learned", "fair-share", "proportional"] | None = Field(
        default=None, description="The served policy (`learned`) unless another is named, to compare."
    )

    @model_validator(mode="after")
    def _stores_known(self) -> AllocationRequest:
        if len(set(self.skus)) != len(self.skus):
            raise ValueError("skus must not repeat")
        if self.on_hand is not None:
            strangers = sorted(set(self.on_hand) - set(self.skus))
            if strangers:
                raise ValueError(f"on_hand names SKUs not in skus: {', '.join(strangers[:5])}")
            if any(not 0 <= v <= 1e9 for v in self.on_hand.values()):
                raise ValueError("on_hand values must be between 0 and 1,000,000,000")
        return self


class StoreAllocation(BaseModel):
    model_config = _OUT

    sku: str
    units: int = Field(description="Whole units shipped to this store.")
    date: Day = Field(description="The forecast period the allocation is for (the SKU's next one).")
    p10: Quantity
    p50: Quantity
    p90: Quantity
    on_hand: Quantity
    on_hand_source: Literal["request", "inventory", "none"]
    need: Quantity = Field(description="Shortfall to the one-period 95% order-up-to level: p50 + 1.645 sd - on hand.")
    price: Money = Field(description="The SKU's last price in its sales history (the policy weighs relative price).")


class AllocationView(BaseModel):
    """Units per store summing to the supply, from each SKU's latest forecast (its next period)."""

    model_config = _OUT

    policy: Literal["learned", "fair-share", "proportional"]
    served_policy: Literal["learned", "fair-share", "proportional"] = Field(
        description="The policy the build's allocation study chose to serve (README, Allocation)."
    )
    policy_version: str = Field(
        description="The `forecasting-allocation` version that holds the served policy and the learned weights."
    )
    supply: int
    allocated: int
    model_versions: list[str] = Field(
        max_length=MAX_ALLOCATION_STORES, description="The forecast model versions behind the SKUs' forecasts."
    )
    stores: list[StoreAllocation] = Field(max_length=MAX_ALLOCATION_STORES)

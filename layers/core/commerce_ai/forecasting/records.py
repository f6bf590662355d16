"""What the forecasting table keeps per SKU (key `sku`, `record`): its sales `history` (the input of every
forecast), its latest `forecast`, and its `inventory` settings. Each is one item holding a JSON body."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commerce_ai.forecasting.features import Series

MAX_HISTORY = 156  # periods kept: three years of weeks is more than any feature looks back


class SalesHistory(BaseModel):
    """A SKU's regular series: units per period from `start` (null where nothing was recorded), and its
    price, promotion and feature-ad flags per period (covariates)."""

    model_config = ConfigDict(extra="forbid")

    sku: str
    freq: str = Field(pattern="^(D|W)$")
    start: date
    units: list[float | None]
    price: list[float]
    promo: list[float]
    feature: list[float]

    @model_validator(mode="after")
    def _aligned(self) -> SalesHistory:
        n = len(self.units)
        if not n or any(len(v) != n for v in (self.price, self.promo, self.feature)):
            raise ValueError("units, price, promo and feature must have the same, non-zero length")
        return self

    @property
    def step(self) -> timedelta:
        return timedelta(days=7 if self.freq == "W" else 1)

    def dates(self, extra: int = 0) -> list[date]:
        return [self.start + self.step * i for i in range(len(self.units) + extra)]

    def series(self, periods: int, price: list[float] | None = None, promo: list[float] | None = None) -> Series:
        """The model's view, with covariates for `periods` future periods: the plan given, else the last
        price and no promotion."""
        import numpy as np  # the ml layer; lazily, so core-only functions never load it

        future_price = price if price is not None else [self.price[-1]] * periods
        future_promo = promo if promo is not None else [0.0] * periods
        n = len(self.units)
        return Series(
            dates=np.asarray(self.dates(periods), dtype="datetime64[D]"),
            units=np.asarray([np.nan if u is None else u for u in self.units], dtype=float),
            price=np.asarray([*self.price, *future_price[:periods]], dtype=float),
            promo=np.asarray([*self.promo, *future_promo[:periods]], dtype=float),
            feature=np.asarray([*self.feature, *[0.0] * periods], dtype=float)[: n + periods],
        )


class ForecastPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    p10: float
    p50: float
    p90: float


class StoredForecast(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    freq: str
    model_version: str
    run_at: datetime
    job: str | None = None
    periods: list[ForecastPeriod]


class InventorySettings(BaseModel):
    """What an admin sets per SKU; lead time and review period are in the SKU's forecast periods."""

    model_config = ConfigDict(extra="forbid")

    on_hand: float = Field(ge=0)
    lead_time_periods: int = Field(ge=0, le=52)
    review_periods: int = Field(default=1, ge=1, le=52)
    service_level: float = Field(default=0.95, ge=0.5, lt=1.0)
    holding_cost: float = Field(default=0.0, ge=0, description="Per unit and period.")
    stockout_cost: float = Field(default=0.0, ge=0, description="Per unit of demand not met.")
    updated_at: datetime | None = None

"""Quotes: what-if pricing for one SKU. For each candidate price, the demand model's expected weekly
units, revenue and profit, and what the guard rails would do if the policy proposed that price now."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from commerce_ai.pricing.catalog import SkuState
from commerce_ai.pricing.demand import DemandModel
from commerce_ai.pricing.guardrails import Decision, GuardRailConfig, decide
from commerce_ai.pricing.observations import IDENTIFIER
from commerce_ai.pricing.repricing import sku_pricing
from commerce_ai.pricing.ticks import catalog_entries

MAX_CANDIDATES = 50


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=IDENTIFIER)
    prices: list[float] = Field(min_length=1, max_length=MAX_CANDIDATES)

    @field_validator("prices")
    @classmethod
    def _positive(cls, prices: list[float]) -> list[float]:
        for price in prices:
            if not math.isfinite(price) or not 0 < price <= 1_000_000:
                raise ValueError("every price must be a finite number above 0 and at most 1,000,000")
        return prices


def verdict(decision: Decision, candidate: float) -> dict[str, Any]:
    if decision.blocked and decision.applied is None:
        outcome = "blocked"
    elif decision.applied is None:
        outcome = "kept"
    elif math.isclose(decision.applied, round(candidate, 2)):
        outcome = "allowed"
    else:
        outcome = "adjusted"
    return {"verdict": outcome, "applied": decision.new_price, "rules": decision.rules, "reason": decision.reason}


def quote(
    state: SkuState, model: DemandModel, prices: list[float], now: datetime, config: GuardRailConfig | None = None
) -> list[dict[str, Any]]:
    (entry,) = catalog_entries([state], model, now)
    units = model.weekly_units([state.sku] * len(prices), prices, [entry.competitor_index] * len(prices), now)
    pricing = sku_pricing(entry)
    return [
        {
            "price": price,
            "units": round(float(u), 3),
            "revenue": round(price * float(u), 2),
            "profit": round((price - state.cost) * float(u), 2),
            "guard": verdict(decide(pricing, price, now, config), price),
        }
        for price, u in zip(prices, units, strict=True)
    ]

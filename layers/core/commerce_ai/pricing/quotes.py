"""Quotes: what-if pricing for one SKU. For each candidate price, the demand model's expected weekly
units, revenue and profit, and what the guard rails would do if the policy proposed that price now."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, field_validator

from commerce_ai.pricing.catalog import SkuState
from commerce_ai.pricing.demand import DemandModel
from commerce_ai.pricing.guardrails import Decision, GuardRailConfig, decide
from commerce_ai.pricing.observations import SKU_ID
from commerce_ai.pricing.repricing import sku_pricing
from commerce_ai.pricing.ticks import catalog_entry, fresh_competitor_index, usable

MAX_CANDIDATES = 50
# How far beyond the prices the model saw a SKU at it still gives a (labelled) estimate. Trees are flat
# beyond their data, so further out the units would be the edge's units at any price: a confident, absurd
# number (issue 19: 25.00 for juice that sells around 2.50 "sold" 99.97 units a week). Past it: no estimate.
EXTRAPOLATION_LIMIT = 0.2


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(pattern=SKU_ID)
    # The bounds are in the type too, so the API document shows them (the validator says why in words).
    # A cent at least: prices are applied in cents, and a positive price below one (1e-135, say) is no price.
    prices: list[Annotated[StrictFloat, Field(ge=0.01, le=1_000_000)]] = Field(min_length=1, max_length=MAX_CANDIDATES)

    @field_validator("prices")
    @classmethod
    def _positive(cls, prices: list[float]) -> list[float]:
        for price in prices:
            if not math.isfinite(price) or not 0.01 <= price <= 1_000_000:
                raise ValueError("every price must be a finite number from 0.01 to 1,000,000")
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
    state: SkuState,
    model: DemandModel,
    prices: list[float],
    now: datetime,
    config: GuardRailConfig | None = None,
    catalog_prices: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """`catalog_prices`: the current prices of the SKU's market members (`ServingTable.market_members`),
    which fill its cross-price slots as in a tick."""
    # One batched inference: the current price's row (the entry's demand, as a tick sees it) and each
    # candidate's. A SKU whose own price is unusable gets no current row, as in a tick.
    profile = model.table.profile(state.sku)
    current = [state.price] if usable(state) else []
    index = fresh_competitor_index(state, now) if current else None
    rows = [*current, *prices]
    predicted = model.weekly_units([state.sku] * len(rows), rows, [index] * len(rows), now, catalog_prices)
    weekly = float(predicted[0]) if current else math.nan
    units = predicted[len(current) :]
    pricing = sku_pricing(catalog_entry(state, profile.elasticity, weekly, index))
    known = model.table.knows(state.sku)
    quotes = []
    for price, u in zip(prices, units, strict=True):
        # The units are the model's guess beyond what it learned: a SKU it never saw, or a price outside
        # this SKU's training prices (None: the model did not record them).
        extrapolated = True if not known else profile.extrapolates(price)
        note = estimate_note(state.sku, price, profile.price_range if known else None, known)
        estimate = note is None or not note.startswith("no estimate")
        quotes.append(
            {
                "price": price,
                "units": round(float(u), 3) if estimate else None,
                "revenue": round(price * float(u), 2) if estimate else None,
                "profit": round((price - state.cost) * float(u), 2) if estimate else None,
                "extrapolated": extrapolated,
                "note": note,
                "guard": verdict(decide(pricing, price, now, config), price),
            }
        )
    return quotes


def estimate_note(sku: str, price: float, seen: tuple[float, float] | None, known: bool) -> str | None:
    """Why a quote's units are less than the model's word, or why there are none; None when the price is
    one the model saw this SKU at."""
    if not known:
        return f"the model never saw {sku}: the units are a pooled guess from similar SKUs"
    if seen is None:
        return None
    low, high = seen
    if low <= price <= high:
        return None
    span = f"{low:.2f}-{high:.2f}"
    if low * (1 - EXTRAPOLATION_LIMIT) <= price <= high * (1 + EXTRAPOLATION_LIMIT):
        return f"outside the prices the model saw {sku} at ({span}): a rough estimate"
    return (
        f"no estimate: {price:.2f} is more than {EXTRAPOLATION_LIMIT:.0%} outside the prices the model saw "
        f"{sku} at ({span}); the model cannot say what demand would be there"
    )

"""Lifecycle stages and the price target each stage aims for before guard rails apply."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Stage(StrEnum):
    NEW = "new"
    MATURE = "mature"
    CLEARANCE = "clearance"


NEW_PRODUCT_BAND = 0.05  # a new SKU stays within ±5% of its launch price while demand is learned
NEW_PRODUCT_EXPLORATION = 0.02  # and moves in small steps around it, so the model sees price variation


@dataclass(frozen=True)
class Clearance:
    end: datetime
    inventory: float
    salvage_price: float


def new_product_target(proposed: float, launch_price: float, tick: int) -> float:
    """Hold near launch: the model's proposal clamped to the band, nudged up/down on alternate ticks."""
    nudge = NEW_PRODUCT_EXPLORATION if tick % 2 == 0 else -NEW_PRODUCT_EXPLORATION
    target = proposed * (1.0 + nudge)
    low, high = launch_price * (1 - NEW_PRODUCT_BAND), launch_price * (1 + NEW_PRODUCT_BAND)
    return min(max(target, low), high)


def clearance_target(
    current_price: float,
    clearance: Clearance,
    now: datetime,
    daily_units_at: Callable[[float], float],
    elasticity: float,
) -> float:
    """The price at which expected sales clear the inventory by the end date, never below salvage.

    Uses the demand model's current rate and a constant-elasticity step from it:
    units(p) = units(p0) * (p / p0) ** elasticity, with elasticity < 0.
    """
    days_left = max((clearance.end - now).total_seconds() / 86_400, 1.0)
    needed_rate = clearance.inventory / days_left
    current_rate = max(daily_units_at(current_price), 1e-9)
    if needed_rate <= current_rate:  # on track: no reason to give margin away
        return max(current_price, clearance.salvage_price)
    if elasticity >= -1e-6:  # the model sees no price response: go as low as allowed, the step limit paces it
        return clearance.salvage_price
    price = current_price * math.exp(math.log(needed_rate / current_rate) / elasticity)
    return max(price, clearance.salvage_price)

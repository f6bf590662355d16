"""One repricing tick over a catalog, as pure code: propose with the shipped policy, shape by lifecycle
stage, then let the guard rails decide. A SKU whose data is broken fails alone; the tick goes on.

The shipped policy is the myopic profit-optimal price (reports/pricing.md: the DQN did not beat it beyond
noise): for a constant elasticity e < -1 the one-period optimum is cost x e / (1 + e).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from commerce_ai.errors import safe_reason
from commerce_ai.pricing.guardrails import Decision, GuardRailConfig, Positioning, SkuPricing, decide
from commerce_ai.pricing.lifecycle import Clearance, Stage, clearance_target, new_product_target

INELASTIC_STEP = 0.05  # with |e| <= 1 the optimum is unbounded above: move up gently, rails pace it


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    current_price: float
    cost: float
    elasticity: float
    weekly_units: float  # expected at the current price; clearance plans from it
    stage: Stage = Stage.MATURE
    launch_price: float | None = None
    clearance: Clearance | None = None
    floor: float | None = None
    ceiling: float | None = None
    price_history: tuple[float, ...] = ()
    recent_changes: tuple[datetime, ...] = ()
    competitor_index: float | None = None
    position: Positioning | None = None


@dataclass(frozen=True)
class TickResult:
    decisions: list[Decision]
    failures: dict[str, str]  # sku -> what was wrong with its data


def myopic_price(cost: float, elasticity: float, current: float) -> float:
    if elasticity >= -1.0:
        return current * (1 + INELASTIC_STEP)
    return cost * elasticity / (1.0 + elasticity)


def target_price(entry: CatalogEntry, now: datetime, tick: int) -> float:
    """The shipped policy's proposal, shaped by the SKU's lifecycle stage."""
    proposal = myopic_price(entry.cost, entry.elasticity, entry.current_price)
    if entry.stage is Stage.NEW and entry.launch_price:
        return new_product_target(proposal, entry.launch_price, tick)
    if entry.stage is Stage.CLEARANCE and entry.clearance is not None:
        weekly, price0, elasticity = entry.weekly_units, entry.current_price, entry.elasticity

        def daily_units_at(price: float) -> float:
            return weekly / 7.0 * (price / price0) ** elasticity

        return clearance_target(entry.current_price, entry.clearance, now, daily_units_at, elasticity)
    return proposal


def _check(entry: CatalogEntry) -> None:
    values = (entry.current_price, entry.cost, entry.weekly_units, entry.elasticity)
    if (  # the common case, checked fast
        all(type(v) is float for v in values)
        and all(map(math.isfinite, values))
        and entry.current_price > 0
        and entry.cost > 0
    ):
        return
    for name in ("current_price", "cost", "weekly_units", "elasticity"):
        value = getattr(entry, name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{name} is not a finite number")
    if entry.current_price <= 0 or entry.cost <= 0:
        raise ValueError("current price and cost must be positive")


def sku_pricing(entry: CatalogEntry) -> SkuPricing:
    """What the guard rails need to know about a catalog entry."""
    return SkuPricing(
        sku=entry.sku,
        current_price=entry.current_price,
        cost=entry.cost,
        stage=entry.stage,
        floor=entry.floor,
        ceiling=entry.ceiling,
        salvage_price=entry.clearance.salvage_price if entry.clearance else None,
        price_history=entry.price_history,
        recent_changes=entry.recent_changes,
        competitor_index=entry.competitor_index,
        position=entry.position,
    )


def _stamped(decision: Decision, model_version: str | None, policy_version: str | None) -> Decision:
    """`dataclasses.replace(decision, model_version=..., policy_version=...)`, without its per-call
    introspection (a tick stamps every SKU's decision). A test holds it equal to `replace`."""
    return Decision(
        decision.sku,
        decision.old_price,
        decision.proposed,
        decision.applied,
        decision.rules,
        decision.blocked,
        decision.reason,
        model_version,
        policy_version,
    )


def reprice(
    entries: list[CatalogEntry],
    now: datetime,
    tick: int,
    config: GuardRailConfig | None = None,
    model_version: str | None = None,
    policy_version: str | None = None,
) -> TickResult:
    config = config or GuardRailConfig()
    decisions: list[Decision] = []
    failures: dict[str, str] = {}
    for entry in entries:
        try:
            _check(entry)
            decision = decide(sku_pricing(entry), target_price(entry, now, tick), now, config)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
            failures[entry.sku] = safe_reason(exc, 200)
            continue
        decisions.append(_stamped(decision, model_version, policy_version))
    return TickResult(decisions, failures)

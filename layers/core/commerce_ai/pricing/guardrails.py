"""Guard rails between a proposed price and the price that is applied.

Whatever a model or policy proposes, an *applied* change (new price != current price) satisfies:
- the margin floor: new >= cost / (1 - min_margin) (in clearance, the salvage price replaces it);
- the SKU's admin floor and ceiling;
- the frequency limit: fewer than `max_changes_per_day` changes in the last 24 hours;
- the ±3% dead band and the maximum step, except for a *margin correction*: when the current price is
  itself below the margin floor (its cost went up), the price moves to the floor in one step.
A proposal that is invalid, below cost, far outside the SKU's own price history or wildly off the
competitor index is blocked and flagged: the current price stays.

Every decision records which rules fired and a human-readable reason.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from commerce_ai.pricing.lifecycle import Stage

PRICE_DECIMALS = 2


@dataclass(frozen=True)
class GuardRailConfig:
    min_margin: float = 0.10
    dead_band: float = 0.03
    max_step: float = 0.10
    max_changes_per_day: int = 4
    # Anomaly guard: a proposal whose log-price sits more than this many robust standard deviations
    # (MAD-based) from the SKU's own history, or this far (ratio) from the competitor index, is blocked.
    history_z_limit: float = 6.0
    history_min_points: int = 8
    competitor_ratio_limit: float = 1.6

    def __post_init__(self) -> None:
        if not 0 <= self.min_margin < 1:
            raise ValueError("min_margin must be in [0, 1)")
        if not 0 <= self.dead_band < self.max_step:
            raise ValueError("dead_band must be below max_step, or no change could ever be applied")
        if self.max_changes_per_day < 1:
            raise ValueError("max_changes_per_day must be at least 1")


@dataclass(frozen=True)
class Positioning:
    """Where an admin wants a SKU's price against the competitor index: `at_most_above` (no more than
    `percent` above it), `match` (at it) or `beat` (`percent` below it). Applied with the guard rails:
    the margin floor and admin bounds still win over it, and the step limit paces the move."""

    mode: str  # "at_most_above" | "match" | "beat"
    percent: float = 0.0

    def target(self, proposed: float, index: float) -> float:
        if self.mode == "match":
            return index
        if self.mode == "beat":
            return min(proposed, index * (1 - self.percent / 100))
        return min(proposed, index * (1 + self.percent / 100))

    def describe(self, index: float) -> str:
        if self.mode == "match":
            return f"match the competitor index {index:.2f}"
        if self.mode == "beat":
            return f"beat the competitor index {index:.2f} by {self.percent:g}%"
        return f"no more than {self.percent:g}% above the competitor index {index:.2f}"


@dataclass(frozen=True)
class SkuPricing:
    """What the guard rails need to know about one SKU at decision time."""

    sku: str
    current_price: float
    cost: float
    stage: Stage = Stage.MATURE
    floor: float | None = None
    ceiling: float | None = None
    salvage_price: float | None = None
    price_history: Sequence[float] = ()
    recent_changes: Sequence[datetime] = ()
    competitor_index: float | None = None
    position: Positioning | None = None


@dataclass(frozen=True)
class Decision:
    sku: str
    old_price: float
    proposed: float
    applied: float | None  # None: the price stays as it is
    rules: list[str] = field(default_factory=list)
    blocked: bool = False
    reason: str = ""
    # Which demand model and policy produced the proposal; the repricing tick stamps them for the audit.
    model_version: str | None = None
    policy_version: str | None = None

    @property
    def new_price(self) -> float:
        return self.applied if self.applied is not None else self.old_price


def margin_floor(sku: SkuPricing, config: GuardRailConfig) -> float:
    """The lowest price this SKU may be changed to."""
    if sku.stage is Stage.CLEARANCE and sku.salvage_price is not None:
        lowest = sku.salvage_price
    else:
        lowest = sku.cost / (1.0 - config.min_margin)
    if sku.floor is not None:
        lowest = max(lowest, sku.floor)
    return _round_up(lowest)


def _round_up(price: float) -> float:
    scale = 10**PRICE_DECIMALS
    return math.ceil(price * scale - 1e-9) / scale


def _round(price: float) -> float:
    return round(price, PRICE_DECIMALS)


def _round_down(price: float) -> float:
    scale = 10**PRICE_DECIMALS
    return math.floor(price * scale + 1e-9) / scale


def anomaly(sku: SkuPricing, proposed: float, config: GuardRailConfig) -> tuple[str, str] | None:
    """(rule, reason) if the proposal must not be acted on at all."""
    if not math.isfinite(proposed) or proposed <= 0:
        return "invalid_proposal", f"proposed price {proposed!r} is not a positive number"
    if sku.stage is not Stage.CLEARANCE and proposed < sku.cost:
        return "below_cost", f"proposed {proposed:.2f} is below unit cost {sku.cost:.2f}"
    history = [p for p in sku.price_history if p > 0]
    if len(history) >= config.history_min_points:
        logs = [math.log(p) for p in history]
        centre = statistics.median(logs)
        spread = statistics.median(abs(v - centre) for v in logs) * 1.4826
        spread = max(spread, 0.05)  # a SKU whose price never moved may still move up to ~30% (z 6)
        z = abs(math.log(proposed) - centre) / spread
        if z > config.history_z_limit:
            return (
                "history_outlier",
                f"proposed {proposed:.2f} is {z:.1f} robust SDs from this SKU's price history "
                f"(median {math.exp(centre):.2f})",
            )
    if sku.competitor_index and sku.position is None:  # a positioned SKU is brought to the index instead
        ratio = proposed / sku.competitor_index
        if ratio > config.competitor_ratio_limit or ratio < 1 / config.competitor_ratio_limit:
            return (
                "competitor_outlier",
                f"proposed {proposed:.2f} is {ratio:.2f}x the competitor index {sku.competitor_index:.2f}",
            )
    return None


def decide(sku: SkuPricing, proposed: float, now: datetime, config: GuardRailConfig | None = None) -> Decision:
    """Turn a proposal into the price to apply (or none), recording every rule that shaped it."""
    # Order matters: anomalies block outright; then the step limit, then the bounds (which win over the
    # step), then the dead band and the frequency limit decide whether the change happens at all.
    config = config or GuardRailConfig()
    current = sku.current_price

    rules: list[str] = []
    notes: list[str] = []
    lowest = margin_floor(sku, config)
    highest = _round_down(sku.ceiling) if sku.ceiling is not None else math.inf
    if lowest > highest:
        return Decision(
            sku.sku,
            current,
            proposed,
            None,
            ["infeasible_bounds"],
            blocked=True,
            reason=f"blocked: margin/admin floor {lowest:.2f} is above the ceiling {highest:.2f}",
        )

    # A bounds correction: the current price itself is outside [floor, ceiling] (its cost went up, or an
    # admin moved the bounds). It moves back inside in one step, exempt from the step limit, the dead band
    # and the frequency limit.
    correcting = current < lowest or current > highest
    target = proposed
    flagged = anomaly(sku, proposed, config)
    if flagged is not None:
        rule, why = flagged
        if not correcting:
            return Decision(sku.sku, current, proposed, None, [rule], blocked=True, reason=f"blocked: {why}")
        # The proposal is refused, but a price outside its bounds is still brought back inside them.
        rules.append(rule)
        notes.append(f"proposal blocked: {why}")
        target = min(max(current, lowest), highest)
    if sku.competitor_index and flagged is None:
        index = sku.competitor_index
        if sku.position is not None:
            positioned = sku.position.target(target, index)
            if not math.isclose(positioned, target):
                rules.append("competitor_position")
            notes.append(f"positioned to {sku.position.describe(index)}")
            target = positioned
        elif index < current * 0.97:  # a competitor well below us that nothing here acts on: say so
            notes.append(f"competitor index {index:.2f} is {index / current - 1:+.0%}: no positioning set for this SKU")
    # On the cent grid, rounded towards the current price, so that rounding never takes a step past it.
    step_low, step_high = _round_up(current * (1 - config.max_step)), _round_down(current * (1 + config.max_step))
    if step_low > step_high and not correcting:  # a price of a few cents: no whole cent lies within the step
        return Decision(
            sku.sku,
            current,
            proposed,
            None,
            [*rules, "max_step"],
            reason=_reason(f"kept: no whole-cent price lies within ±{config.max_step:.0%} of {current:.4f}", notes),
        )
    if not step_low <= target <= step_high:
        target = min(max(target, step_low), step_high)
        rules.append("max_step")
        notes.append(f"step limited to ±{config.max_step:.0%}")
    if target < lowest:
        target = lowest
        rules.append("margin_correction" if current < lowest else "margin_floor")
        notes.append(f"raised to the floor {lowest:.2f}")
    if target > highest:
        target = highest
        rules.append("ceiling_correction" if current > highest else "ceiling")
        notes.append(f"capped at the ceiling {highest:.2f}")
    target = min(max(_round(target), lowest), highest)  # rounding must never cross a bound

    if target == _round(current):
        return Decision(sku.sku, current, proposed, None, [*rules, "no_change"], reason=_reason("kept", notes))
    if not correcting and abs(target / current - 1) < config.dead_band:
        return Decision(
            sku.sku,
            current,
            proposed,
            None,
            [*rules, "dead_band"],
            reason=_reason(
                f"kept: change {target / current - 1:+.1%} is inside the ±{config.dead_band:.0%} dead band", notes
            ),
        )
    window_start = now - timedelta(days=1)
    changes_today = sum(1 for t in sku.recent_changes if t > window_start)
    if changes_today >= config.max_changes_per_day and not correcting:  # a price out of bounds cannot wait a day
        return Decision(
            sku.sku,
            current,
            proposed,
            None,
            [*rules, "frequency_limit"],
            reason=_reason(f"kept: already {changes_today} changes in the last 24 h", notes),
        )
    return Decision(
        sku.sku,
        current,
        proposed,
        target,
        rules,
        blocked=flagged is not None,
        reason=_reason(f"changed {current:.2f} -> {target:.2f} ({target / current - 1:+.1%})", notes),
    )


def _reason(head: str, notes: list[str]) -> str:
    return head + (f" ({'; '.join(notes)})" if notes else "")

"""A repricing tick over the stored catalog: read every SKU, price it with the served demand model and the
shipped policy behind the guard rails, write the blocks and failures to the audit, apply the changes, then
write the tick's whole decision log to S3.

Idempotent per SKU per tick: a tick is named by its scheduled time; a SKU whose `last_tick` is already
this tick was changed by an earlier attempt and is skipped, and the catalog's revision-conditioned
updates refuse to apply a change twice or over a change made while the tick ran. A change's decision
record is written with the change, in the SKU's own item (`recent_changes`, one UpdateItem: one write
unit), so a change is never applied without its record nor recorded without being applied. Blocks and
failures are audit items keyed by tick (written again on a retried tick, they overwrite). A SKU whose
update cannot be written (throttled past the SDK's retries, say) has its record turned into a failure,
written as such; the rest still apply.
A whole-catalog tick runs this a chunk at a time on the chunk workers (`commerce_ai.pricing.tick_chunks`),
which read their SKUs eventually consistent (half the read units): a SKU read a moment stale has its
update refused by the revision condition (`superseded`, decided again next tick), never overwritten.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import CatalogStore, SkuState
from commerce_ai.pricing.competitors import STALE_AFTER
from commerce_ai.pricing.decision_archive import DecisionArchive
from commerce_ai.pricing.decisions import DecisionLog, DecisionRecord, fields_of
from commerce_ai.pricing.demand import POLICY, DemandModel
from commerce_ai.pricing.guardrails import Decision, GuardRailConfig
from commerce_ai.pricing.lifecycle import Clearance, Stage
from commerce_ai.pricing.price_events import PriceEvents
from commerce_ai.pricing.repricing import CatalogEntry, TickResult, reprice

TICK_MINUTES = 15
# Rules that move a price whatever the demand model says, and why.
FORCING_RULES = {
    "margin_correction": "the price must move back inside its bounds (margin_correction)",
    "ceiling_correction": "the price must move back inside its bounds (ceiling_correction)",
    "competitor_position": "the admin's competitor positioning sets it (competitor_position)",
}
MODEL_CHECK_RULE = "model_profit"


def tick_stamp(moment: datetime) -> str:
    """A tick's name: its time to the millisecond, in one fixed format so names order as times do (and two
    admin reprices a moment apart are two ticks, not one)."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


@dataclass
class TickReport:
    tick: str
    dry_run: bool
    model_version: str
    policy_version: str
    records: list[DecisionRecord] = field(default_factory=list)
    already_done: int = 0  # changed by an earlier attempt of this tick
    unknown: list[str] = field(default_factory=list)  # asked-for SKUs that are not in the catalog

    def summary(self) -> dict[str, Any]:
        outcomes = Counter(r.outcome for r in self.records)
        return {
            "tick": self.tick,
            "dry_run": self.dry_run,
            "model_version": self.model_version,
            "policy_version": self.policy_version,
            "skus": len(self.records) + self.already_done,
            "already_done": self.already_done,
            "unknown": len(self.unknown),
            **{name: outcomes.get(name, 0) for name in ("applied", "kept", "blocked", "failed", "superseded")},
        }


def fresh_competitor_index(state: SkuState, now: datetime) -> float | None:
    if state.competitor_index is None or state.competitor_index_at is None:
        return None
    return state.competitor_index if now - state.competitor_index_at <= STALE_AFTER else None


def usable(state: SkuState) -> bool:
    """Whether the SKU's own price and cost can be priced from (the model needs a positive price)."""
    return all(math.isfinite(v) and v > 0 for v in (state.price, state.cost))


def catalog_entry(state: SkuState, elasticity: float, weekly_units: float, index: float | None) -> CatalogEntry:
    """What the pure repricing core needs to know about one SKU, given its demand at the current price."""
    clearance = None
    if state.stage is Stage.CLEARANCE and state.clearance_end and state.salvage_price and state.inventory is not None:
        clearance = Clearance(state.clearance_end, state.inventory, state.salvage_price)
    return CatalogEntry(
        sku=state.sku,
        current_price=state.price,
        cost=state.cost,
        elasticity=elasticity,
        weekly_units=weekly_units,
        stage=state.stage,
        launch_price=state.launch_price,
        clearance=clearance,
        floor=state.floor,
        ceiling=state.ceiling,
        price_history=tuple(state.history),
        recent_changes=tuple(state.changes),
        competitor_index=index,
        position=state.positioning(),
    )


def catalog_entries(
    states: list[SkuState], model: DemandModel, now: datetime, catalog_prices: dict[str, float] | None = None
) -> list[CatalogEntry]:
    """What the pure repricing core needs per SKU, with demand from one batched model call. A SKU whose
    price or cost is unusable gets NaN demand, which the core reports as that SKU's failure.
    `catalog_prices` are the current prices the cross-price slots read (default: the states' own)."""
    table = model.table
    usable_states = [s for s in states if usable(s)]
    profiles = [table.profile(s.sku) for s in usable_states]
    indices = [fresh_competitor_index(s, now) for s in usable_states]
    if catalog_prices is None:
        catalog_prices = {s.sku: s.price for s in usable_states}
    units: list[float] = []
    if usable_states:
        skus, prices = [s.sku for s in usable_states], [s.price for s in usable_states]
        units = [float(u) for u in model.weekly_units(skus, prices, indices, now, catalog_prices)]
    demand = {s.sku: (u, c, p.elasticity) for s, u, c, p in zip(usable_states, units, indices, profiles, strict=True)}
    entries = []
    for state in states:
        found = demand.get(state.sku)
        if found is None:
            entries.append(catalog_entry(state, table.profile(state.sku).elasticity, math.nan, None))
        else:
            weekly_units, index, elasticity = found
            entries.append(catalog_entry(state, elasticity, weekly_units, index))
    return entries


def pinned_record(state: SkuState, tick: str) -> DecisionRecord:
    """A pinned SKU's decision: its price stays, and the reason says whose pin and until when."""
    until = f"until {state.pinned_until:%Y-%m-%dT%H:%M:%SZ}" if state.pinned_until else "until an admin unpins it"
    return DecisionRecord(
        sku=state.sku,
        tick=tick,
        outcome="kept",
        old_price=state.price,
        rules=["admin_pin"],
        reason=f"kept: pinned by an admin {until}",
    )


def checked_with_model(
    decisions: list[Decision],
    entries: list[CatalogEntry],
    model: DemandModel,
    now: datetime,
    catalog_prices: dict[str, float] | None = None,
) -> list[Decision]:
    """The tick's changes held to the model that `POST /pricing/quote` answers with: a change the served
    demand model expects to earn less weekly profit than the current price is kept instead (rule
    `model_profit`), unless the price must move (a bounds correction) or the lifecycle sets it (a new
    product's ramp, a clearance plan), which the reason then says. Every applied change's reason gives the
    model's expected weekly profit before and after. One batched inference for all of the tick's changes."""
    by_sku = {e.sku: e for e in entries}
    changes = [d for d in decisions if d.applied is not None]
    if not changes:
        return decisions
    units = model.weekly_units(
        [d.sku for d in changes],
        [float(d.applied or 0.0) for d in changes],
        [by_sku[d.sku].competitor_index for d in changes],
        now,
        catalog_prices,
    )
    checked: dict[str, Decision] = {}
    for decision, new_units in zip(changes, units, strict=True):
        entry = by_sku[decision.sku]
        applied = float(decision.applied or 0.0)
        before = (entry.current_price - entry.cost) * entry.weekly_units
        after = (applied - entry.cost) * float(new_units)
        expected = f"expected weekly profit {before:.2f} -> {after:.2f}"
        forced = [FORCING_RULES[rule] for rule in decision.rules if rule in FORCING_RULES]
        if forced:
            note = f"{expected}; {'; '.join(forced)}"
        elif entry.stage is not Stage.MATURE:
            note = f"{expected}; set by the {entry.stage.value} stage's plan, not by the demand model"
        elif not math.isfinite(after) or after < before:
            checked[decision.sku] = Decision(
                decision.sku,
                decision.old_price,
                decision.proposed,
                None,
                [*decision.rules, MODEL_CHECK_RULE],
                reason=f"kept: the demand model expects weekly profit {after:.2f} at {applied:.2f}, below "
                f"{before:.2f} at {entry.current_price:.2f} now (the policy proposed {decision.proposed:.2f})",
                model_version=decision.model_version,
                policy_version=decision.policy_version,
            )
            continue
        else:
            note = expected
        checked[decision.sku] = Decision(
            decision.sku,
            decision.old_price,
            decision.proposed,
            decision.applied,
            decision.rules,
            decision.blocked,
            f"{decision.reason}; {note}",
            decision.model_version,
            decision.policy_version,
        )
    return [checked.get(d.sku, d) for d in decisions]


def done_earlier(state: SkuState, tick: str) -> DecisionRecord:
    """The record of a SKU an earlier attempt of this tick changed: the one written with the change."""
    newest = state.recent_changes[0] if state.recent_changes else {}
    if newest.get("tick") == tick:
        try:
            return DecisionRecord.model_validate({**newest, "sku": state.sku})
        except ValueError:
            pass  # edited by hand into something else: say what the item shows
    old = state.history[-2] if len(state.history) >= 2 else None
    return DecisionRecord(
        sku=state.sku,
        tick=tick,
        outcome="applied",
        old_price=old,
        applied=state.price,
        reason="applied by an earlier attempt of this tick",
    )


def decided_later(state: SkuState, tick: str) -> DecisionRecord:
    """The log line of a SKU a later tick has changed already (this tick ran late): not decided again."""
    return DecisionRecord(
        sku=state.sku,
        tick=tick,
        outcome="kept",
        old_price=state.price,
        reason=f"not decided: a later tick ({state.last_tick}) has changed it already",
    )


def run_tick(
    catalog: CatalogStore,
    log: DecisionLog,
    model: LoadedModel[DemandModel],
    now: datetime,
    tick: str,
    skus: list[str] | None = None,
    dry_run: bool = False,
    config: GuardRailConfig | None = None,
    archive: DecisionArchive | None = None,
    events: PriceEvents | None = None,
    chunk: int | None = None,
    consistent: bool = True,
) -> TickReport:
    """Decide and write a tick over the catalog, or over the given SKUs (with `chunk`: that chunk of a
    scaled-out tick, whose events marker and S3 log object are the chunk's own). `consistent` False reads
    the given SKUs eventually consistent (a chunk's read: see the module's docstring)."""
    report = TickReport(tick, dry_run, model.version, POLICY)
    # Given SKUs are read with their market members, whose prices fill their cross-price slots.
    wanted = set(skus) if skus is not None else set()
    members = [m for s in wanted for m in model.model.table.market_members(s) if m not in wanted]
    read = catalog.read(None if skus is None else [*skus, *members], consistent=consistent)
    states: dict[str, SkuState] = {}
    catalog_prices: dict[str, float] = {}
    earlier: list[DecisionRecord] = []  # SKUs an earlier attempt of this tick (or a later tick) changed: S3 log
    found: set[str] = set()
    for state in read.states():
        name = state.sku if isinstance(state, SkuState) else state
        found.add(name)
        if isinstance(state, SkuState):
            catalog_prices[state.sku] = state.price
        if skus is not None and name not in wanted:
            continue  # a market member: read for its price, not decided
        if isinstance(state, str):  # an entry that does not parse: that SKU fails, the tick goes on
            report.records.append(DecisionRecord.failure(state, tick, "its catalog entry is not readable"))
        elif state.last_tick is not None and state.last_tick >= tick:
            report.already_done += 1
            earlier.append(done_earlier(state, tick) if state.last_tick == tick else decided_later(state, tick))
        elif state.pin_holds(now):
            report.records.append(pinned_record(state, tick))
        else:
            states[state.sku] = state

    report.unknown = sorted(wanted - found)
    entries = catalog_entries(list(states.values()), model.model, now, catalog_prices)
    result = reprice(entries, now, int(now.timestamp() // (TICK_MINUTES * 60)), config, model.version, POLICY)
    checked = checked_with_model(result.decisions, entries, model.model, now, catalog_prices)
    result = TickResult(checked, result.failures)
    units = {e.sku: round(e.weekly_units, 3) if math.isfinite(e.weekly_units) else None for e in entries}
    records = {d.sku: DecisionRecord.of(d, tick, units[d.sku]) for d in result.decisions}
    records.update({sku: DecisionRecord.failure(sku, tick, why) for sku, why in result.failures.items()})
    report.records.extend(records.values())
    if dry_run:
        return report

    log.write([r for r in report.records if r.outcome not in ("applied", "kept")], now)  # blocks, failures
    changes = [(states[d.sku], d.applied) for d in result.decisions if d.applied is not None]
    written = catalog.apply_all(changes, now, tick, read, {s.sku: fields_of(records[s.sku]) for s, _ in changes})
    refused = [sku for sku, applied in written.applied.items() if not applied]
    for sku in refused:
        records[sku] = records[sku].model_copy(
            update={
                "outcome": "superseded",
                "applied": None,
                "reason": "not applied: the SKU changed while the tick ran (an admin update or another tick); "
                f"the next tick decides again. Decision was: {records[sku].reason}",
            }
        )
    for sku, error in written.unwritten.items():
        records[sku] = records[sku].model_copy(
            update={
                "outcome": "failed",
                "applied": None,
                "rules": sorted({*records[sku].rules, "failed"}),
                "reason": f"failed: its catalog update could not be written ({type(error).__name__}); the price "
                f"is unchanged and the next tick decides again. Decision was: {records[sku].reason}",
            }
        )
    refused += list(written.unwritten)
    if refused:
        log.write([records[sku] for sku in refused], now)
    decided = set(records)
    for sku, current in written.earlier.items():  # changed by an earlier attempt, which a stale read missed
        del records[sku]
        report.already_done += 1
        earlier.append(done_earlier(current, tick))
    if refused or written.earlier:
        report.records = list(records.values()) + [r for r in report.records if r.sku not in decided]
    if events is not None:
        redone = [r for r in earlier if r.outcome == "applied"]
        events.publish_tick(tick, [r for r in records.values() if r.outcome == "applied"], redone, chunk)
    if archive is not None:
        archive.write(tick, [*report.records, *earlier], chunk)
    return report

"""Properties of the tick path, whatever the catalog holds: from the stored item, through the served model
(`catalog_entries`) and the shipped policy behind the guard rails (`reprice`), to the state a change
leaves behind (`after_change`, stored and read back) and the next tick that starts from it.

An applied price never breaks the margin floor (the salvage price in clearance; the admin floor when
higher) or the ceiling, moves at least the ±3% dead band and at most the step limit unless it is a bounds
correction, and is never the fifth change within 24 hours. The single-decision rules are covered in
test_guardrails.py; here the point is that the tick feeds them the SKU's real state, tick after tick.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import HISTORY_LENGTH, CatalogStore, SkuState, from_item, to_item
from commerce_ai.pricing.decisions import DecisionLog
from commerce_ai.pricing.demand import POLICY, DemandModel
from commerce_ai.pricing.guardrails import GuardRailConfig
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.repricing import reprice
from commerce_ai.pricing.ticks import TICK_MINUTES, catalog_entries, run_tick, tick_stamp
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RULES = GuardRailConfig()  # what the tick runs with

Model = LoadedModel[DemandModel]


def stored(state: SkuState) -> SkuState:
    """The state as the catalog stores and reads it back (its JSON entry)."""
    back = from_item(json.loads(json.dumps(to_item(state))))
    assert isinstance(back, SkuState)
    return back


def money(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


@st.composite
def stored_sku(draw: st.DrawFn, name: str) -> SkuState:
    """A SKU as the catalog may hold it: any bounds, stage, history, recent changes and competitor index,
    written to its item form and read back, as the tick reads it."""
    price = draw(money(0.2, 60.0))
    stage = draw(st.sampled_from(list(Stage)))
    fields: dict[str, object] = {
        "sku": name,
        "price": price,
        "cost": price * draw(money(0.2, 1.3)),  # may be above the price: a cost increase to correct
        "stage": stage,
        "floor": draw(st.none() | money(0.05, price * 1.3)),
        "ceiling": draw(st.none() | money(price * 0.7, price * 3)),
        "history": draw(st.lists(money(price * 0.3, price * 3), max_size=HISTORY_LENGTH + 4)),
        # whole seconds, as the item stores them; some over a day old
        "changes": sorted(NOW - timedelta(seconds=s) for s in draw(st.lists(st.integers(0, 30 * 3600), max_size=6))),
    }
    if draw(st.booleans()):
        fields["competitor_index"] = draw(money(price * 0.3, price * 3))
        fields["competitor_index_at"] = NOW - timedelta(hours=draw(st.integers(0, 20 * 24)))
    if stage is Stage.NEW:
        fields["launch_price"] = draw(st.none() | money(price * 0.5, price * 1.5))
    if stage is Stage.CLEARANCE and draw(st.integers(0, 4)):  # sometimes missing its plan
        fields["clearance_end"] = NOW + timedelta(hours=draw(st.integers(-48, 60 * 24)))
        fields["salvage_price"] = draw(money(0.05, price))
        fields["inventory"] = float(draw(st.integers(0, 20_000)))
    return stored(SkuState.model_validate(fields))


@st.composite
def catalogs(draw: st.DrawFn) -> list[SkuState]:
    return [draw(stored_sku(f"sku-{i}")) for i in range(draw(st.integers(1, 4)))]


def bounds(state: SkuState) -> tuple[float, float]:
    """The SKU's lowest and highest allowed price, worked out from its stored state."""
    in_clearance = (
        state.stage is Stage.CLEARANCE
        and state.clearance_end is not None
        and state.salvage_price
        and state.inventory is not None
    )
    lowest = state.salvage_price if in_clearance and state.salvage_price else state.cost / (1 - RULES.min_margin)
    if state.floor is not None:
        lowest = max(lowest, state.floor)
    highest = math.floor(state.ceiling * 100 + 1e-9) / 100 if state.ceiling is not None else math.inf
    return math.ceil(lowest * 100 - 1e-9) / 100, highest


@dataclass
class Ledger:
    """Every change each SKU ever had, kept apart from the state the tick maintains."""

    changes: dict[str, list[datetime]]

    def check_change(self, before: SkuState, applied: float, now: datetime) -> None:
        current = before.price
        lowest, highest = bounds(before)
        assert applied >= lowest, f"margin floor {lowest}"
        assert applied <= highest, f"ceiling {highest}"
        assert applied == round(applied, 2), "whole cents"
        recent = [t for t in self.changes[before.sku] if t > now - DAY]
        if lowest <= current <= highest:  # not a bounds correction, which cannot wait
            assert len(recent) < RULES.max_changes_per_day, f"frequency limit: {len(recent)} changes in 24 h"
            assert abs(applied / current - 1) >= RULES.dead_band, "dead band"
            assert abs(applied / current - 1) <= RULES.max_step + 1e-9, "max step, rounding included"
        self.changes[before.sku].append(now)

    def check_state(self, after: SkuState, applied: float, now: datetime, tick: str) -> None:
        assert (after.price, after.last_tick) == (applied, tick)
        assert after.history[-1] == applied and len(after.history) <= HISTORY_LENGTH
        # the state keeps exactly the changes the next ticks' frequency limit needs
        assert after.changes == [t for t in self.changes[after.sku] if t > now - DAY]


def ticks(count: int) -> list[tuple[datetime, str]]:
    moments = [NOW + timedelta(minutes=TICK_MINUTES * k) for k in range(count)]
    return [(m, tick_stamp(m)) for m in moments]


@settings(max_examples=150, deadline=None)
@given(catalog=catalogs())
def test_ticks_never_apply_a_price_that_breaks_a_guard_rail(catalog: list[SkuState], demand_model: Model) -> None:
    ledger = Ledger({s.sku: list(s.changes) for s in catalog})
    states = {s.sku: s for s in catalog}
    for now, tick in ticks(8):
        entries = catalog_entries(list(states.values()), demand_model.model, now)
        result = reprice(entries, now, int(now.timestamp() // (TICK_MINUTES * 60)), None, "v1", POLICY)
        decided = [d.sku for d in result.decisions]
        assert sorted(decided + list(result.failures)) == sorted(states), "each SKU decided or failed, once"
        for decision in result.decisions:
            assert decision.reason
            if decision.applied is None:
                continue
            before = states[decision.sku]
            ledger.check_change(before, decision.applied, now)
            after = stored(before.after_change(decision.applied, now, tick))
            ledger.check_state(after, decision.applied, now, tick)
            states[after.sku] = after


@settings(max_examples=40, deadline=None)
@given(catalog=catalogs())
def test_run_tick_stores_only_changes_that_keep_the_guard_rails(catalog: list[SkuState], demand_model: Model) -> None:
    ddb = FakeDynamoDB(key_schemas={"catalog": ("sku",), "pricing": ("sku", "item")})
    store, log = CatalogStore("catalog", ddb), DecisionLog("pricing", ddb)
    for state in catalog:
        store.put(state)
    ledger = Ledger({s.sku: list(s.changes) for s in catalog})
    for now, tick in ticks(4):
        before = {s.sku: s for s in store.read().states() if isinstance(s, SkuState)}
        report = run_tick(store, log, demand_model, now, tick)
        assert sorted(r.sku for r in report.records) == sorted(before)
        for record in report.records:
            after = store.get(record.sku)
            if record.outcome != "applied":
                assert after == before[record.sku], f"{record.outcome}: the stored SKU is untouched"
                continue
            assert record.applied is not None and record.old_price == before[record.sku].price
            ledger.check_change(before[record.sku], record.applied, now)
            ledger.check_state(after, record.applied, now, tick)

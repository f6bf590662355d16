"""A repricing tick over the stored catalog, with the real served demand model over in-memory tables:
idempotent per SKU per tick, audit before apply, per-SKU failures, dry runs, superseded changes and the
competitor index's freshness.

The synthetic market's elasticity is -2.5, so the shipped myopic price is cost x 2.5 / 1.5: "cut"
(3.00, cost 1.00) aims at 1.67 and moves -10% to 2.70, "raise" (2.00, cost 1.90) aims at 3.17 and moves
+10% to 2.20, and "keep" (2.00, cost 1.20) is already there.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.pricing.catalog import SkuState
from commerce_ai.pricing.competitors import STALE_AFTER
from commerce_ai.pricing.decisions import DecisionRecord
from commerce_ai.pricing.demand import POLICY, DemandModel
from commerce_ai.pricing.ticks import TickReport, fresh_competitor_index, run_tick, tick_stamp
from tests.support.pricing import sku_history, store_raw
from tests.unit.fakes import client_error
from tests.unit.pricing.conftest import CATALOG_TABLE, PRICING_TABLE, PricingTables

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TICK = tick_stamp(NOW)
SKUS = {"cut": (3.0, 1.0), "keep": (2.0, 1.2), "raise": (2.0, 1.9)}
Model = LoadedModel[DemandModel]


def stock(tables: PricingTables, skus: dict[str, tuple[float, float]] = SKUS, **extra: Any) -> None:
    for sku, (price, cost) in skus.items():
        tables.catalog.put(
            SkuState.model_validate({"sku": sku, "price": price, "cost": cost, "history": [price], **extra})
        )


def tick(tables: PricingTables, model: Model, **options: Any) -> TickReport:
    return run_tick(tables.catalog, tables.log, model, NOW, TICK, **options)


def by_sku(report: TickReport) -> dict[str, DecisionRecord]:
    records = {r.sku: r for r in report.records}
    assert len(records) == len(report.records), "one record per SKU"
    return records


def audit(tables: PricingTables, sku: str) -> list[DecisionRecord]:
    """The SKU's history as the route shows it: the changes on its catalog item, with the audit items."""
    return sku_history(tables.catalog, tables.log, sku)


def test_a_tick_decides_every_sku_audits_each_decision_and_applies_the_changes(
    tables: PricingTables, demand_model: Model
) -> None:
    stock(tables)
    report = tick(tables, demand_model)

    summary = report.summary()
    assert summary == {
        "tick": TICK,
        "dry_run": False,
        "model_version": "v1",
        "policy_version": POLICY,
        "skus": 3,
        "already_done": 0,
        "unknown": 0,
        "applied": 2,
        "kept": 1,
        "blocked": 0,
        "failed": 0,
        "superseded": 0,
    }
    records = by_sku(report)
    assert (records["cut"].outcome, records["cut"].old_price, records["cut"].applied) == ("applied", 3.0, 2.7)
    assert records["cut"].rules == ["max_step"] and records["cut"].proposed == pytest.approx(1.0 * 2.5 / 1.5, abs=1e-4)
    assert (records["raise"].outcome, records["raise"].applied) == ("applied", 2.2)
    assert (records["keep"].outcome, records["keep"].applied) == ("kept", None)
    assert all(r.model_version == "v1" and r.policy_version == POLICY for r in report.records)
    # Expected weekly units at the current price: the synthetic market sells 100 x (price / 2) ** -2.5.
    assert records["cut"].expected_weekly_units == pytest.approx(100 * 1.5**-2.5, rel=0.25)
    assert records["keep"].expected_weekly_units == pytest.approx(100, rel=0.25)

    cut = tables.catalog.get("cut")
    assert (cut.price, cut.history, cut.changes, cut.last_tick) == (2.7, [3.0, 2.7], [NOW], TICK)
    assert tables.catalog.get("keep").price == 2.0 and tables.catalog.get("keep").last_tick is None
    for sku, record in records.items():
        stored = [] if record.outcome == "kept" else [record]  # kept ones go to the S3 log only
        assert audit(tables, sku) == stored, "the stored audit is what the report says"


def test_a_change_and_its_record_are_one_write_and_blocks_are_audited_before_any_change(
    tables: PricingTables, demand_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock(tables)
    # Its proposal (1.67) is 1.67x a fresh competitor index of 1.00: the guard rails block it.
    stock(tables, {"blocked": (3.0, 1.0)}, competitor_index=1.0, competitor_index_at=NOW - timedelta(days=1))
    tables.ddb.log.clear()
    records_written: dict[str, list[dict[str, Any]]] = {}
    update_item = tables.ddb.update_item

    def checking_update(**request: Any) -> Any:
        if request["TableName"] == CATALOG_TABLE:
            sku = request["Key"]["sku"]["S"]
            alias = {name: alias for alias, name in request["ExpressionAttributeNames"].items()}
            value = request["ExpressionAttributeValues"][alias["recent_changes"].replace("#a", ":v")]["S"]
            records_written[sku] = json.loads(value)
        return update_item(**request)

    monkeypatch.setattr(tables.ddb, "update_item", checking_update)
    report = by_sku(tick(tables, demand_model))

    assert {sku: [r["tick"] for r in written] for sku, written in records_written.items()} == {
        "cut": [TICK],
        "raise": [TICK],
    }, "each change's UpdateItem carries its own record"
    assert [op for op, params in tables.ddb.log if params["TableName"] == CATALOG_TABLE].count("UpdateItem") == 2
    assert audit(tables, "cut") == [report["cut"]] and audit(tables, "raise") == [report["raise"]]
    assert not any(key[1].startswith("decision#") for key in tables.ddb.tables[PRICING_TABLE] if key[0] != "blocked")
    assert report["blocked"].outcome == "blocked" and audit(tables, "blocked") == [report["blocked"]]
    operations = [(op, params["TableName"]) for op, params in tables.ddb.log]
    last_audit = max(i for i, op in enumerate(operations) if op == ("BatchWriteItem", PRICING_TABLE))
    assert last_audit < operations.index(("UpdateItem", CATALOG_TABLE))


def test_a_retry_of_the_same_tick_applies_nothing_twice(tables: PricingTables, demand_model: Model) -> None:
    stock(tables)
    first = tick(tables, demand_model)
    again = tick(tables, demand_model)

    assert (again.already_done, again.summary()["applied"], again.summary()["kept"]) == (2, 0, 1)
    assert again.summary()["skus"] == 3
    assert {r.sku for r in again.records} == {"keep"}, "changed SKUs are skipped, not decided again"
    assert tables.catalog.get("cut").price == 2.7 and tables.catalog.get("cut").history == [3.0, 2.7]
    assert audit(tables, "cut") == [by_sku(first)["cut"]], "the applied record is kept as it was"
    assert audit(tables, "keep") == [], "a kept SKU's record is not stored per SKU (the S3 log has it)"


def test_a_retry_reading_a_stale_sku_neither_applies_it_again_nor_calls_the_earlier_change_superseded(
    tables: PricingTables, demand_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk reads eventually consistent: its retry may read a SKU as it was before its earlier attempt
    changed it (here to another price than this attempt decides). The revision condition refuses the
    update, and the SKU counts as done by the earlier attempt, with that attempt's own record."""
    stock(tables)
    stale = tables.catalog.read(["cut"])
    earlier_record = {"tick": TICK, "outcome": "applied", "reason": "the first attempt's", "applied": 2.65}
    tables.catalog.apply_all([(tables.catalog.get("cut"), 2.65)], NOW, TICK, None, {"cut": earlier_record})
    read = tables.catalog.read

    def stale_cut(skus: list[str] | None = None, **options: Any) -> Any:
        fresh = read(skus, **options)
        fresh.items = [stale.items[0] if i["sku"]["S"] == "cut" else i for i in fresh.items]
        return fresh

    monkeypatch.setattr(tables.catalog, "read", stale_cut)
    report = tick(tables, demand_model, skus=list(SKUS))

    assert report.already_done == 1 and "cut" not in by_sku(report)
    assert (report.summary()["superseded"], report.summary()["applied"]) == (0, 1)
    assert tables.catalog.get("cut").price == 2.65 and tables.catalog.get("cut").history == [3.0, 2.65]
    assert [r.reason for r in audit(tables, "cut")] == ["the first attempt's"], "no superseded record"


@pytest.mark.parametrize("last_tick", [TICK, tick_stamp(NOW + timedelta(minutes=15))])
def test_a_sku_already_changed_by_this_or_a_later_tick_is_skipped(
    tables: PricingTables, demand_model: Model, last_tick: str
) -> None:
    stock(tables, {"cut": (3.0, 1.0)}, last_tick=last_tick)
    stock(tables, {"raise": (2.0, 1.9)}, last_tick=tick_stamp(NOW - timedelta(minutes=15)))
    report = tick(tables, demand_model)
    assert report.already_done == 1 and [r.sku for r in report.records] == ["raise"]
    assert tables.catalog.get("cut").price == 3.0 and audit(tables, "cut") == []
    assert tables.catalog.get("raise").price == 2.2


def test_a_dry_run_decides_but_writes_nothing(tables: PricingTables, demand_model: Model) -> None:
    stock(tables)
    tables.ddb.log.clear()
    report = tick(tables, demand_model, dry_run=True)

    assert report.summary()["dry_run"] is True and report.summary()["applied"] == 2
    assert by_sku(report)["cut"].applied == 2.7
    assert {op for op, _ in tables.ddb.log} == {"Scan"}
    assert tables.catalog.get("cut").price == 3.0 and audit(tables, "cut") == []


def test_broken_skus_fail_alone_and_the_rest_are_decided(tables: PricingTables, demand_model: Model) -> None:
    stock(tables, {"cut": (3.0, 1.0), "keep": (2.0, 1.2), "zero-price": (0.0, 1.0), "negative-cost": (2.0, -1.0)})
    store_raw(tables.catalog, "unreadable", {"price": 2, "cost": "unknown"})
    report = tick(tables, demand_model)

    records = by_sku(report)
    failed = {sku for sku, r in records.items() if r.outcome == "failed"}
    assert failed == {"unreadable", "zero-price", "negative-cost"}
    assert records["unreadable"].reason == "failed: its catalog entry is not readable"
    assert all(records[sku].rules == ["failed"] and records[sku].applied is None for sku in failed)
    assert (records["cut"].outcome, records["keep"].outcome) == ("applied", "kept")
    assert tables.catalog.get("cut").price == 2.7 and tables.catalog.get("zero-price").price == 0.0
    for sku in failed:
        assert [r.outcome for r in audit(tables, sku)] == ["failed"], "failures are audited too"


def test_a_change_refused_by_the_conditional_write_is_superseded(
    tables: PricingTables, demand_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock(tables)
    update_item = tables.ddb.update_item

    def admin_changes_cut_meanwhile(**request: Any) -> Any:
        tick_update = request["TableName"] == CATALOG_TABLE and "ConditionExpression" in request
        if tick_update and request["Key"]["sku"]["S"] == "cut" and tables.catalog.get("cut").price == 3.0:
            tables.catalog.put(tables.catalog.get("cut").model_copy(update={"price": 3.49}))  # after the read
        return update_item(**request)

    monkeypatch.setattr(tables.ddb, "update_item", admin_changes_cut_meanwhile)
    report = tick(tables, demand_model)

    cut = by_sku(report)["cut"]
    assert (cut.outcome, cut.applied, cut.old_price) == ("superseded", None, 3.0)
    assert cut.reason.startswith("not applied: the SKU changed") and "changed 3.00 -> 2.70" in cut.reason
    assert (report.summary()["superseded"], report.summary()["applied"]) == (1, 1)
    assert tables.catalog.get("cut").price == 3.49, "the admin's price stands"
    assert audit(tables, "cut") == [cut], "the stored audit says superseded, not applied"
    assert tables.catalog.get("raise").price == 2.2


def test_a_sku_that_cannot_be_written_fails_alone_and_the_rest_still_apply(
    tables: PricingTables, demand_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock(tables)
    update_item = tables.ddb.update_item

    def cut_throttled(**request: Any) -> Any:
        if request["Key"]["sku"]["S"] == "cut":
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")
        return update_item(**request)

    monkeypatch.setattr(tables.ddb, "update_item", cut_throttled)
    report = tick(tables, demand_model)

    cut = by_sku(report)["cut"]
    assert (cut.outcome, cut.applied, cut.old_price) == ("failed", None, 3.0)
    assert "failed" in cut.rules and "catalog update could not be written" in cut.reason
    assert "changed 3.00 -> 2.70" in cut.reason, "the decision it could not apply is kept in the reason"
    assert (report.summary()["failed"], report.summary()["applied"]) == (1, 1)
    assert audit(tables, "cut") == [cut], "the stored audit says failed, not applied"
    assert tables.catalog.get("cut").price == 3.0 and tables.catalog.get("raise").price == 2.2

    monkeypatch.setattr(tables.ddb, "update_item", update_item)
    retry = by_sku(tick(tables, demand_model))
    assert retry["cut"].outcome == "applied" and tables.catalog.get("cut").price == 2.7, "a retry applies it"
    assert "raise" not in retry, "and skips what the first attempt applied"


def test_given_skus_are_read_with_batch_get_and_unknown_ones_are_skipped(
    tables: PricingTables, demand_model: Model
) -> None:
    stock(tables)
    tables.ddb.log.clear()
    report = tick(tables, demand_model, skus=["cut", "never-listed"])
    assert [r.sku for r in report.records] == ["cut"] and report.summary()["skus"] == 1
    assert report.unknown == ["never-listed"] and report.summary()["unknown"] == 1, "named, not silently dropped"
    assert "Scan" not in {op for op, _ in tables.ddb.log}
    assert tables.catalog.get("raise").price == 2.0


def test_an_empty_catalog_is_an_empty_tick(tables: PricingTables, demand_model: Model) -> None:
    report = tick(tables, demand_model)
    assert report.records == [] and report.summary()["skus"] == 0


# ------------------------------------------------------------------------------- competitor index


def test_a_fresh_competitor_index_guards_the_proposal_and_a_stale_one_does_not(
    tables: PricingTables, demand_model: Model
) -> None:
    # The myopic proposal for "cut" (1.67) is 1.67x a competitor index of 1.00: wildly off, if it counts.
    stock(tables, {"fresh": (3.0, 1.0)}, competitor_index=1.0, competitor_index_at=NOW - timedelta(days=1))
    stock(
        tables,
        {"stale": (3.0, 1.0)},
        competitor_index=1.0,
        competitor_index_at=NOW - STALE_AFTER - timedelta(minutes=1),
    )
    records = by_sku(tick(tables, demand_model))

    assert (records["fresh"].outcome, records["fresh"].rules, records["fresh"].applied) == (
        "blocked",
        ["competitor_outlier"],
        None,
    )
    assert (records["stale"].outcome, records["stale"].applied) == ("applied", 2.7)
    assert tables.catalog.get("fresh").price == 3.0


def test_the_competitor_index_is_fresh_up_to_stale_after() -> None:
    state = SkuState(sku="s-1", price=2.0, cost=1.0, competitor_index=2.2, competitor_index_at=NOW - STALE_AFTER)
    assert fresh_competitor_index(state, NOW) == 2.2
    assert fresh_competitor_index(state, NOW + timedelta(seconds=1)) is None
    assert fresh_competitor_index(state.model_copy(update={"competitor_index_at": None}), NOW) is None
    assert fresh_competitor_index(state.model_copy(update={"competitor_index": None}), NOW) is None


def test_the_model_is_given_the_fresh_competitor_index_only(tables: PricingTables, demand_model: Model) -> None:
    seen: dict[str, float | None] = {}

    class Recording(DemandModel):
        def weekly_units(self, skus: Any, prices: Any, competitor_index: Any, now: datetime, *rest: Any) -> Any:
            seen.update(zip(skus, competitor_index, strict=True))
            return super().weekly_units(skus, prices, competitor_index, now, *rest)

    recording = Recording(demand_model.model.session, demand_model.model.table)
    stock(tables, {"fresh": (2.0, 1.2)}, competitor_index=2.1, competitor_index_at=NOW - timedelta(days=13))
    stock(tables, {"stale": (2.0, 1.2)}, competitor_index=2.1, competitor_index_at=NOW - timedelta(days=15))
    stock(tables, {"none": (2.0, 1.2)})
    run_tick(tables.catalog, tables.log, replace(demand_model, model=recording), NOW, TICK)
    assert seen == {"fresh": 2.1, "stale": None, "none": None}


# ------------------------------------------------------------------------------------------ naming


def test_tick_names_are_utc_to_the_second_and_order_as_times_do() -> None:
    assert tick_stamp(datetime(2026, 11, 28, 12, 0, 0, 999_999, tzinfo=UTC)) == "2026-11-28T12:00:00.999Z"
    hour_ahead = timezone(timedelta(hours=1))
    assert tick_stamp(datetime(2026, 11, 28, 13, 0, 0, 7_000, tzinfo=hour_ahead)) == "2026-11-28T12:00:00.007Z"
    moments = [NOW + timedelta(minutes=15 * i, milliseconds=i) for i in range(0, 200, 7)]
    assert sorted(tick_stamp(m) for m in moments) == [tick_stamp(m) for m in moments]


# ---------------------------------------------------------------------------- odd items and requests


def test_an_item_with_an_impossible_change_time_fails_alone(tables: PricingTables, demand_model: Model) -> None:
    stock(tables)
    store_raw(tables.catalog, "odd", {"price": 2.0, "cost": 1.0, "stage": "mature", "changes": "9" * 20})
    records = by_sku(tick(tables, demand_model))
    assert records["odd"].outcome == "failed" and records["cut"].outcome == "applied"


def test_a_sku_named_twice_in_a_long_list_is_decided_once(tables: PricingTables, demand_model: Model) -> None:
    store_raw(tables.catalog, "unreadable", {"price": 2})
    skus = ["unreadable", *[f"x-{i}" for i in range(99)], "unreadable"]
    report = tick(tables, demand_model, skus=skus)
    assert [r.outcome for r in report.records] == ["failed"]


def test_a_tick_over_given_skus_reads_their_market_members_prices_but_decides_only_them(
    tables: PricingTables, demand_model: Model
) -> None:
    seen: dict[str, float] = {}

    class Recording(DemandModel):
        def weekly_units(self, skus: Any, prices: Any, index: Any, now: datetime, catalog_prices: Any = None) -> Any:
            seen.update(catalog_prices or {})
            return super().weekly_units(skus, prices, index, now, catalog_prices)

    served = demand_model.model.table
    profiles = {
        sku: {"level": 4.6, "brand": brand, "market": "store-9", "elasticity": -2.5}
        for sku, brand in (("cut", 1), ("keep", 2), ("raise", 3))
    }
    table = type(served).model_validate({**served.model_dump(), "skus": profiles})
    stock(tables)
    model = replace(demand_model, model=Recording(demand_model.model.session, table))
    report = run_tick(tables.catalog, tables.log, model, NOW, TICK, skus=["cut"])
    assert [r.sku for r in report.records] == ["cut"], "members are read, not decided"
    assert seen == {"cut": 3.0, "keep": 2.0, "raise": 2.0}
    assert tables.catalog.get("keep").last_tick is None


# ------------------------------------------------------------------- decisions held to the quoted model


def quoted_profit(model: Model, sku: str, price: float, cost: float) -> float:
    """Weekly profit at `price` as `POST /pricing/quote` computes it (the served model)."""
    units = float(model.model.weekly_units([sku], [price], [None], NOW)[0])
    return (price - cost) * units


def test_no_applied_change_lowers_the_quoted_profit_unless_forced_and_then_it_says_why(
    tables: PricingTables, demand_model: Model
) -> None:
    # Given a whole catalog of SKUs at prices all over the place, some in their lifecycle's plans and
    # some outside admin bounds
    rng = __import__("random").Random(19)
    skus = {f"sku-{n}": (round(rng.uniform(1.0, 5.0), 2), round(rng.uniform(0.5, 2.5), 2)) for n in range(60)}
    stock(tables, skus)
    for n in range(0, 60, 10):
        state = tables.catalog.get(f"sku-{n}")
        tables.catalog.put(state.model_copy(update={"ceiling": round(state.price * 0.9, 2)}))
    # when a tick runs
    report = tick(tables, demand_model)
    applied = [r for r in report.records if r.outcome == "applied"]
    assert len(applied) >= 20
    for record in applied:
        price, cost = tables.catalog.get(record.sku).price, skus[record.sku][1]
        before = quoted_profit(demand_model, record.sku, record.old_price, cost)
        after = quoted_profit(demand_model, record.sku, price, cost)
        forced = {"margin_correction", "ceiling_correction"} & set(record.rules)
        # then no change lowers the model's expected profit, unless a bound forced it and the record says so
        assert after >= before - 1e-6 or (forced and "must move back inside its bounds" in record.reason), record
        assert "expected weekly profit" in record.reason


def test_a_proposal_the_quoted_model_expects_to_lose_profit_is_kept_and_says_so(demand_model: Model) -> None:
    from commerce_ai.pricing.guardrails import Decision
    from commerce_ai.pricing.repricing import CatalogEntry
    from commerce_ai.pricing.ticks import checked_with_model

    # The policy believed in an elasticity the served model does not: it would cut a price whose cut
    # the model expects to lose money on (the market's elasticity is -2.5, the optimum cost x 5/3).
    entry = CatalogEntry("sku-x", current_price=2.0, cost=1.2, elasticity=-9.0, weekly_units=100.0)
    current_units = float(demand_model.model.weekly_units(["sku-x"], [2.0], [None], NOW)[0])
    entry = replace(entry, weekly_units=current_units)
    cut = Decision("sku-x", 2.0, 1.35, 1.8, [], reason="changed 2.00 -> 1.80 (-10.0%)")
    [kept] = checked_with_model([cut], [entry], demand_model.model, NOW)
    assert kept.applied is None and "model_profit" in kept.rules
    assert kept.reason.startswith("kept: the demand model expects weekly profit")
    # and a bounds correction still moves, naming why
    correction = replace(cut, rules=["margin_correction"])
    [moved] = checked_with_model([correction], [entry], demand_model.model, NOW)
    assert moved.applied == 1.8 and "must move back inside its bounds (margin_correction)" in moved.reason


# ------------------------------------------------------------------------------- an admin's price


def test_an_admins_price_is_audited_counted_and_pinned_against_ticks(
    tables: PricingTables, demand_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    from commerce_ai.pricing import service
    from commerce_ai.pricing.catalog import SkuSettings
    from commerce_ai.pricing.price_events import PriceEvents
    from tests.unit.fakes import FakeSNS

    sns = FakeSNS()
    monkeypatch.setattr(service, "catalog", lambda: tables.catalog)
    monkeypatch.setattr(service, "decision_log", lambda: tables.log)
    monkeypatch.setattr(service, "price_events", lambda: PriceEvents("arn:price-changes", "pricing", sns=sns))
    stock(tables)
    # Given an admin sets "cut" (3.00, which a tick would cut to 2.70) to 3.10 with a note
    at = NOW - timedelta(hours=1)
    state = service.configure_sku("cut", SkuSettings(price=3.1, note="supplier shortage"), at)
    # then the change is in the decision history, the recent prices and the day's changes
    [record] = audit(tables, "cut")
    assert (record.outcome, record.old_price, record.applied) == ("applied", 3.0, 3.1)
    assert sorted(record.rules) == ["admin_pin", "admin_price"]
    assert "set by an admin: supplier shortage" in record.reason
    assert state.history[-1] == 3.1 and state.changes[-1] == at and state.pinned
    # and it is published on the price-changes topic as a tick's change would be
    [event] = sns.published
    assert event["TopicArn"] == "arn:price-changes" and '"sku":"cut"' in event["Message"].replace(" ", "")
    # and the next tick keeps it, saying why
    kept = by_sku(tick(tables, demand_model))["cut"]
    assert (kept.outcome, kept.rules) == ("kept", ["admin_pin"])
    assert kept.reason == "kept: pinned by an admin until an admin unpins it"
    assert tables.catalog.get("cut").price == 3.1


def test_a_pin_lapses_and_an_unpinned_price_is_repriced(tables: PricingTables, demand_model: Model) -> None:
    from commerce_ai.pricing.catalog import SkuSettings

    stock(tables)
    until = NOW - timedelta(minutes=1)
    tables.catalog.configure("cut", SkuSettings.model_validate({"price": 3.1, "pinned_until": "2026-11-28T11:59:00Z"}))
    assert tables.catalog.get("cut").pinned_until == until
    tables.catalog.configure("raise", SkuSettings(price=2.15, pinned=False))
    decided = by_sku(tick(tables, demand_model))
    assert decided["cut"].outcome == "applied" and "admin_pin" not in decided["cut"].rules  # the pin lapsed
    assert decided["raise"].outcome == "applied"  # never pinned
    assert not tables.catalog.configure("cut", SkuSettings.model_validate({"pinned": None})).pinned


# -------------------------------------------------------------------------- competitor positioning


def test_a_competitor_undercutting_by_20_percent_moves_a_positioned_sku_or_is_named(
    tables: PricingTables, demand_model: Model
) -> None:
    from commerce_ai.pricing.catalog import SkuSettings

    # Given "keep" (2.00, already at the policy's optimum) and a competitor index 20% below it
    stock(tables, {"keep": (2.0, 1.2), "keep-positioned": (2.0, 1.2)}, competitor_index=1.6, competitor_index_at=NOW)
    tables.catalog.configure("keep-positioned", SkuSettings(position="at_most_above", position_percent=5.0))
    decided = by_sku(tick(tables, demand_model))
    # then the SKU positioned at most 5% above the competitors moves down (the step limit paces it) and
    # says why, although the demand model alone would keep it
    moved = decided["keep-positioned"]
    assert moved.outcome == "applied" and moved.applied == 1.8 and "competitor_position" in moved.rules
    assert "no more than 5% above the competitor index 1.60" in moved.reason
    assert "the admin's competitor positioning sets it" in moved.reason
    # and the SKU with no positioning keeps its price, naming the competitor as what it did not act on
    kept = decided["keep"]
    assert kept.outcome == "kept" and "competitor index 1.60 is -20%: no positioning set" in kept.reason


def test_positioning_never_goes_below_the_margin_floor(tables: PricingTables, demand_model: Model) -> None:
    from commerce_ai.pricing.catalog import SkuSettings

    stock(tables, {"thin": (2.0, 1.75)}, competitor_index=1.5, competitor_index_at=NOW)  # floor 1.95
    tables.catalog.configure("thin", SkuSettings(position="match"))
    record = by_sku(tick(tables, demand_model))["thin"]
    # the policy's 2.92 would be 1.94x the index (a competitor outlier); positioned, it is brought down
    # instead, the margin floor stops it at 1.95, and that -2.5% is inside the dead band: kept, saying so
    assert (record.outcome, record.applied) == ("kept", None)
    assert {"competitor_position", "margin_floor", "dead_band"} <= set(record.rules)
    assert "match the competitor index 1.50" in record.reason

"""The served model's cross-price inputs are filled as training filled them: slot b is brand b's price in
the SKU's market (from the catalog), the SKU's own slot is the row's own price, and a slot with no such
SKU takes the competitor index or, without one, the own price. A member missing from the catalog lends its
last price in training."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np

from commerce_ai.pricing.demand import DemandModel, ServingTable, SkuProfile
from commerce_ai.pricing.features import CROSS_PRICES

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def table() -> ServingTable:
    profile = {"level": 3.0, "elasticity": -2.5}
    return ServingTable(
        output="log_units",
        smearing=1.0,
        default_level=3.0,
        pooled_elasticity=-2.5,
        skus={
            "oj-2-1": SkuProfile(**profile, brand=1, market="2"),
            "oj-2-3": SkuProfile(**profile, brand=3, market="2"),
            "oj-2-7": SkuProfile(**profile, brand=7, market="2", price=1.85),
            "oj-5-1": SkuProfile(**profile, brand=1, market="5"),
            "csv-sku": SkuProfile(**profile, brand=0),
        },
    )


def cross(columns: dict[str, np.ndarray], row: int) -> list[float]:
    return [float(columns[f"cross_price_{slot}"][row]) for slot in range(1, CROSS_PRICES + 1)]


def test_a_skus_slots_hold_its_markets_catalog_prices_and_its_own_price() -> None:
    model = DemandModel(session=None, table=table())
    catalog = {"oj-2-1": 2.0, "oj-2-3": 2.6, "oj-2-7": 1.9, "oj-5-1": 9.9}
    columns = model.feature_columns(["oj-2-1", "oj-2-1"], [2.0, 2.4], [2.2, None], NOW, catalog)

    current, candidate = cross(columns, 0), cross(columns, 1)
    assert current[0] == 2.0 and candidate[0] == 2.4, "the own slot follows the row's (candidate) price"
    assert (current[2], current[6]) == (2.6, 1.9), "brands 3 and 7 of store 2, not store 5's"
    assert all(current[slot] == 2.2 for slot in range(CROSS_PRICES) if slot not in (0, 2, 6)), "index elsewhere"
    assert all(math.isnan(candidate[slot]) for slot in range(CROSS_PRICES) if slot not in (0, 2, 6))


def test_a_market_member_missing_from_the_catalog_lends_its_last_training_price() -> None:
    model = DemandModel(session=None, table=table())
    columns = model.feature_columns(["oj-2-1"], [2.0], [2.2], NOW, {"oj-2-1": 2.0, "oj-2-3": 2.6})
    assert cross(columns, 0)[6] == 1.85, "brand 7 is not in the catalog: its price in training"
    assert cross(columns, 0)[2] == 2.6 and cross(columns, 0)[1] == 2.2


def test_without_catalog_prices_or_a_market_the_competitor_index_fills_the_rival_slots() -> None:
    model = DemandModel(session=None, table=table())
    columns = model.feature_columns(["oj-2-3", "csv-sku", "never-seen"], [2.5, 3.0, 4.0], [2.2, 2.8, None], NOW)
    assert cross(columns, 0)[2] == 2.5 and cross(columns, 0)[0] == 2.2 and cross(columns, 0)[6] == 1.85
    assert cross(columns, 1) == [2.8] * CROSS_PRICES, "no brand slot: the index everywhere"
    assert all(math.isnan(v) for v in cross(columns, 2)), "nothing known: demand_features uses the own price"


def test_market_members_are_the_skus_whose_prices_a_sku_needs() -> None:
    assert sorted(table().market_members("oj-2-7")) == ["oj-2-1", "oj-2-3", "oj-2-7"]
    assert table().market_members("csv-sku") == [] and table().market_members("never-seen") == []


def test_a_copy_with_other_skus_answers_for_its_own_markets() -> None:
    original = table()
    assert original.market_slots("2")
    elsewhere = {"oj-9-1": SkuProfile(level=3.0, elasticity=-2.5, brand=1, market="9")}
    moved = original.model_copy(update={"skus": elsewhere})
    assert moved.market_slots("9") == [(1, "oj-9-1")] and moved.market_slots("2") == []
    assert sorted(original.market_members("oj-2-7")) == ["oj-2-1", "oj-2-3", "oj-2-7"], "the original is untouched"

"""Pricing data: OJ derivations and the user CSV loader land in one canonical frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_build.pricing.data import (
    OJ_BRANDS,
    DataError,
    canonical_from_oj,
    fingerprint,
    read_orange_juice,
    read_sales_csv,
)

FIXTURES = Path(__file__).parent / "fixtures"


def oj_rows() -> pd.DataFrame:
    """Two rows shaped like bayesm's orangeJuice$yx."""
    rows = []
    for store, brand, week, ounces, profit in ((2, 1, 40, 6144.0, 37.5), (2, 3, 41, 640.0, 20.0)):
        row = {
            "store": store,
            "brand": brand,
            "week": week,
            "logmove": np.log(ounces),
            "constant": 1,
            "deal": 1,
            "feat": 0.0,
            "profit": profit,
        }
        row.update({f"price{b}": 0.03 + b / 1000 for b in range(1, OJ_BRANDS + 1)})
        rows.append(row)
    return pd.DataFrame(rows)


def test_oj_rows_become_carton_prices_units_and_costs() -> None:
    frame = canonical_from_oj(oj_rows())
    first = frame.iloc[0]
    assert first["sku"] == "oj-2-1"
    assert first["price"] == pytest.approx((0.03 + 0.001) * 64)
    assert first["units"] == pytest.approx(96.0)  # 6144 oz / 64
    assert first["cost"] == pytest.approx(first["price"] * 0.625)
    assert str(first["date"].date()) == "1990-06-14"  # week 1 began 1989-09-14
    assert frame.iloc[1]["price"] == pytest.approx(frame.iloc[1]["cross_price_3"])


def test_a_users_csv_is_read_into_the_same_frame() -> None:
    frame = read_sales_csv(FIXTURES / "sales.csv")
    assert list(frame["sku"]) == ["tea-black-500g", "tea-black-500g", "tea-green-500g", "tea-green-500g"]
    assert list(frame["week"]) == [1, 2, 1, 2]
    green = frame[frame["sku"] == "tea-green-500g"].iloc[1]
    assert (green["deal"], green["cost"], green["competitor_price_acme"]) == (1, 4.10, 8.49)
    assert green["margin"] == pytest.approx(1 - 4.10 / 7.49)
    shared = {"week", "date", "sku", "price", "units", "cost", "margin", "deal", "feat"}
    assert shared <= set(frame.columns) and shared <= set(canonical_from_oj(oj_rows()).columns)


def test_a_csv_without_required_columns_says_which(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,sku,price\n2026-01-05,a,1.0\n")
    with pytest.raises(DataError, match="missing required column"):
        read_sales_csv(path)


def test_a_csv_with_bad_rows_names_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,sku,price,units\n2026-01-05,a,1.0,3\n2026-01-12,a,-1,3\n")
    with pytest.raises(DataError, match="line 3"):
        read_sales_csv(path)


def test_an_unverified_oj_file_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "orangeJuice.rda"
    fake.write_bytes(b"not the real file")
    with pytest.raises(DataError, match="checksum"):
        read_orange_juice(fake)


def test_the_fingerprint_changes_with_the_data() -> None:
    frame = canonical_from_oj(oj_rows())
    changed = frame.copy()
    changed.loc[0, "units"] += 1
    assert fingerprint(frame) == fingerprint(frame.copy()) != fingerprint(changed)

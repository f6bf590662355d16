"""Training the served demand model on a user's own sales file (`commerce-ai train pricing --data F`).

The file is daily and synthetic, drawn from a known market: weekly demand per SKU is
level x price^-2 x competitor_index^0.8 x noise, so what the models learn can be checked against it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commerce_ai.pricing.demand import open_demand_model
from commerce_ai.pricing.features import demand_features
from infra import cli
from model_build import manifest_for
from model_build.pricing import build
from model_build.pricing.data import DataError, read_sales_csv
from model_build.pricing.demand import (
    BRAND_DEVIATION,
    compare,
    feature_columns,
    hierarchical_design,
    time_split,
    with_levels,
)
from model_build.pricing.export import build_demand_artifact

OWN_ELASTICITY = -2.0
INDEX_ELASTICITY = 0.8
DAYS = 7 * 40


def daily_sales(seed: int = 3, skus: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(skus):
        level, base = rng.uniform(200, 800), rng.uniform(4, 12)
        for day in pd.date_range("2025-01-06", periods=DAYS, freq="D"):
            week = (day - pd.Timestamp("2025-01-06")).days // 7
            weekly_rng = np.random.default_rng([seed, s, week])  # one price and index per week
            price = base * weekly_rng.uniform(0.8, 1.2)
            rivals = base * weekly_rng.uniform(0.75, 1.25, size=2)
            mean_units = (
                level * (price / base) ** OWN_ELASTICITY * (float(np.median(rivals)) / base) ** INDEX_ELASTICITY
            )
            units = rng.poisson(mean_units / 7)
            rows.append(
                {
                    "date": day.date().isoformat(),
                    "sku": f"tea-{s}",
                    "price": round(price, 2),
                    "units": units,
                    "cost": round(base * 0.55, 2),
                    "competitor_price_acme": round(rivals[0], 2),
                    "competitor_price_bolt": round(rivals[1], 2),
                }
            )
    return pd.DataFrame(rows)


def test_daily_rows_are_summed_into_weeks_with_the_competitor_index_in_every_cross_slot(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    pd.DataFrame(
        {
            "date": ["2026-01-05", "2026-01-06", "2026-01-12", "2026-01-13"],
            "sku": ["a", "a", "a", "a"],
            "price": [2.0, 4.0, 3.0, 3.0],
            "units": [30, 10, 0, 0],
            "promo": [1, 0, 0, 0],
            "competitor_price_x": [2.5, 3.5, 3.0, 3.0],
            "competitor_price_y": [4.0, 4.0, None, None],
        }
    ).to_csv(path, index=False)
    frame = read_sales_csv(path)
    assert len(frame) == 1, "the second week sold nothing, so it is left out"
    week = frame.iloc[0]
    assert (week["units"], week["price"], week["deal"]) == (40, pytest.approx(2.5), 0.5)
    assert week["competitor_price_x"] == 3.0 and week["competitor_price_y"] == 4.0
    assert all(week[f"cross_price_{slot}"] == 3.5 for slot in range(1, 12)), "the median of the competitors"


def test_a_file_with_no_sales_at_all_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,price,units\n2026-01-05,a,1.0,0\n")
    with pytest.raises(DataError, match="no week with units sold"):
        read_sales_csv(path)


def write(sales: pd.DataFrame, directory: Path) -> Path:
    path = directory / "sales.csv"
    sales.to_csv(path, index=False)
    return path


def test_the_demand_model_trains_on_a_sales_file_and_serves_what_it_learned(tmp_path: Path) -> None:
    path = write(daily_sales(), tmp_path)
    (built,) = build(tmp_path / "out", data=path)
    assert built.training_data.source.startswith("sales file sales.csv; shipped: ")
    assert built.training_data.rows == 12 * 40
    wape = {name.removeprefix("holdout_wape_"): value for name, value in built.metrics.items()}
    shipped = min(("hierarchical_loglog", "lightgbm"), key=wape.__getitem__)
    assert built.training_data.source.endswith(f"shipped: {shipped} (lower holdout WAPE)")
    assert wape[shipped] < wape["constant_elasticity"] < wape["last_week"]

    model = open_demand_model(manifest_for(built, "v1"), built.directory)
    profile = model.table.profile("tea-0")
    assert profile.market is None and profile.brand == 0 and profile.cost is not None
    assert profile.elasticity == pytest.approx(OWN_ELASTICITY, abs=0.35), "the pooled log-log estimate"

    now = datetime(2026, 3, 2, tzinfo=UTC)
    price = profile.price or 1.0
    cheaper, dearer = model.weekly_units(["tea-0", "tea-0"], [price * 0.9, price * 1.1], [price, price], now)
    assert cheaper > dearer, "demand falls with the own price"
    low, high = model.weekly_units(["tea-0", "tea-0"], [price, price], [price * 0.8, price * 1.2], now)
    assert high > low, "and rises with the competitor index, which the file's competitor prices taught it"


def test_the_log_log_model_ships_as_onnx_that_predicts_what_it_fitted(tmp_path: Path) -> None:
    frame = read_sales_csv(write(daily_sales(), tmp_path))
    comparison = compare(frame)
    comparison.wape["lightgbm"] = math.inf  # make the log-log model the more accurate one
    built = build_demand_artifact(frame, comparison, tmp_path / "out", "sales file")
    assert built.training_data.source == "sales file; shipped: hierarchical_loglog (lower holdout WAPE)"
    served = open_demand_model(manifest_for(built, "v1"), built.directory)

    split = with_levels(time_split(frame))
    loglog = comparison.models["hierarchical_loglog"]
    brands = sorted({int(t.removeprefix(BRAND_DEVIATION)) for t in loglog.terms if t.startswith(BRAND_DEVIATION)})
    fitted = loglog.predict(hierarchical_design(split.holdout, brands)[0], split.holdout["sku"])
    holdout = split.holdout.assign(sku_level=split.holdout["sku"].map(lambda s: served.table.profile(s).level))
    predicted = served.predict_units(demand_features(feature_columns(holdout)))
    np.testing.assert_allclose(predicted, fitted, rtol=1e-4)


def test_the_cli_trains_pricing_on_a_given_file_and_refuses_data_for_a_capability_without_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(daily_sales(skus=4), tmp_path)
    assert cli.main(["train", "pricing", "--data", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "built pricing-demand" in capsys.readouterr().out
    assert (tmp_path / "out" / "pricing-demand" / "model.onnx").is_file()

    assert cli.main(["train", "risk", "--data", str(path), "--out", str(tmp_path / "risk")]) == 2
    assert "--data is not supported" in capsys.readouterr().err
    assert not (tmp_path / "risk").exists()


def test_a_sku_the_api_would_not_accept_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("date,sku,price,units\n2026-01-05,tea-1,1.0,3\n2026-01-05,green tea,1.0,3\n")
    with pytest.raises(DataError, match="line 3"):
        read_sales_csv(path)

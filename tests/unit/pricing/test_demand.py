"""Demand models recover a known elasticity from synthetic sales and beat the naive baselines."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from commerce_ai.pricing.features import FEATURE_NAMES, demand_features
from model_build.pricing.demand import compare, time_split, wape

TRUE_ELASTICITY = {1: -2.0, 2: -3.0}


def synthetic_sales(seed: int = 3) -> pd.DataFrame:
    """Two brands x 20 stores x 80 weeks; units follow a known log-log demand plus noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for store in range(20):
        level = rng.normal(4.0, 0.5)
        for brand, elasticity in TRUE_ELASTICITY.items():
            for week in range(1, 81):
                price = float(np.exp(rng.normal(np.log(2.5), 0.15)))
                other = float(np.exp(rng.normal(np.log(2.5), 0.15)))
                deal = int(rng.random() < 0.2)
                log_units = level + elasticity * np.log(price / 2.5) + 0.3 * deal + rng.normal(0, 0.1)
                rows.append(
                    {
                        "week": week,
                        "date": pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=week - 1),
                        "sku": f"s{store}-b{brand}",
                        "store": store,
                        "brand": brand,
                        "price": price,
                        "units": float(np.exp(log_units)),
                        f"cross_price_{brand}": price,
                        f"cross_price_{3 - brand}": other,
                        "cost": 1.0,
                        "margin": 0.6,
                        "deal": deal,
                        "feat": 0.0,
                    }
                )
    return pd.DataFrame(rows)


def test_the_holdout_is_the_last_fifth_of_weeks() -> None:
    split = time_split(synthetic_sales())
    assert split.cutoff_week == 65
    assert split.train["week"].max() == 64 and split.holdout["week"].min() == 65


def test_models_recover_elasticities_and_beat_the_baselines() -> None:
    result = compare(synthetic_sales())
    by_brand = result.elasticities.set_index("brand")
    for brand, truth in TRUE_ELASTICITY.items():
        estimate, low, high = by_brand.loc[brand, ["elasticity", "low", "high"]]
        assert abs(estimate - truth) < 0.1 and low < estimate < high
    assert result.wape["hierarchical_loglog"] < result.wape["constant_elasticity"] < result.wape["last_week"]
    assert result.wape["lightgbm"] < result.wape["last_week"]


def test_features_are_named_and_refuse_bad_prices() -> None:
    columns = {
        "price": np.array([2.0]),
        "deal": np.array([1]),
        "feat": np.array([0.0]),
        "week_of_year": np.array([13.0]),
        "sku_level": np.array([4.2]),
        "brand": np.array([3]),
    }
    row = demand_features(columns)
    assert row.shape == (1, len(FEATURE_NAMES)) and row.dtype == np.float32
    assert row[0, FEATURE_NAMES.index("log_relative_price")] == pytest.approx(0.0)  # cross slots fall back
    with pytest.raises(ValueError):
        demand_features({**columns, "price": np.array([0.0])})


def test_wape() -> None:
    assert wape(np.array([10.0, 10.0]), np.array([12.0, 7.0])) == pytest.approx(0.25)


def test_the_onnx_export_predicts_what_lightgbm_predicts(tmp_path: Path) -> None:
    import onnxruntime as ort

    from model_build.pricing.demand import feature_columns, with_levels
    from model_build.pricing.export import build_demand_artifact

    frame = synthetic_sales()
    comparison = compare(frame)
    comparison.wape["hierarchical_loglog"] = math.inf  # this synthetic market is log-log: make LightGBM ship
    built = build_demand_artifact(frame, comparison, tmp_path, "synthetic")
    assert built.training_data.source == "synthetic; shipped: lightgbm (lower holdout WAPE)"
    holdout = with_levels(time_split(frame)).holdout
    features = demand_features(feature_columns(holdout))
    session = ort.InferenceSession(str(built.directory / "model.onnx"), providers=["CPUExecutionProvider"])
    exported = session.run(None, {"features": features})[0].ravel()
    native = comparison.models["lightgbm"].predict(features)
    assert np.max(np.abs(exported - native)) < 1e-4
    assert built.metrics["holdout_wape_lightgbm"] == round(comparison.wape["lightgbm"], 4)
    # and the platform accepts it: its real inputs and outputs match the manifest
    from commerce_ai.artifacts.frameworks import open_artifact
    from model_build import manifest_for

    open_artifact(manifest_for(built), built.directory)


def test_the_report_is_written_with_its_plots(tmp_path: Path) -> None:
    from model_build.pricing.dqn import DqnConfig
    from model_build.pricing.report import write_report

    path = write_report(tmp_path, frame=synthetic_sales(), dqn=DqnConfig(steps=300, batch=32), seeds=[1, 2])
    text = path.read_text()
    assert "| last week's units (baseline) | `last_week` |" in text
    assert "How this is served" in text, "the report says how its model reaches production"
    assert "(c) best of (a) and (b) per SKU" in text and "DQN trained in the simulator" in text
    assert "**Shipped policy: `" in text
    for image in ("elasticity_by_brand.png", "holdout_wape.png", "policy_profit.png", "price_paths.png"):
        assert (tmp_path / "pricing" / image).stat().st_size > 1000


def test_lightgbm_units_never_rise_with_the_own_price_against_the_category() -> None:
    """Own price and relative price are constrained: a sweep of the own price with every category slot
    held (the own slot and the empty ones too, which otherwise follow the own price) never raises units."""
    from commerce_ai.pricing.features import CROSS_PRICES
    from model_build.pricing.demand import feature_columns, fit_lightgbm, with_levels

    split = with_levels(time_split(synthetic_sales()))
    model = fit_lightgbm(split.train)
    rows = split.holdout.head(40)
    for _, row in rows.iterrows():
        sweep = pd.DataFrame([row] * 30).reset_index(drop=True)
        for slot in range(1, CROSS_PRICES + 1):
            held = row.get(f"cross_price_{slot}", math.nan)
            sweep[f"cross_price_{slot}"] = row["price"] if pd.isna(held) else held
        sweep["price"] = np.linspace(row["price"] * 0.6, row["price"] * 1.6, 30)
        units = model.predict(demand_features(feature_columns(sweep)))
        assert np.all(np.diff(units) <= 1e-9), units

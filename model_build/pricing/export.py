"""Export the chosen demand model to ONNX with the side data serving needs, as one artifact version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.pricing.demand import MODEL_NAME, SERVING_TABLE, ServingTable, SkuProfile
from commerce_ai.pricing.features import FEATURE_NAMES
from model_build import Built
from model_build.pricing.data import fingerprint
from model_build.pricing.demand import Comparison

OPSET = 15


def lightgbm_to_onnx(booster: Any, path: Path) -> Path:
    """LightGBM -> ONNX (onnxmltools). Output `variable` [N, 1] is the predicted log units."""
    import onnx
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    model = convert_lightgbm(
        booster, initial_types=[("features", FloatTensorType([None, len(FEATURE_NAMES)]))], target_opset=OPSET
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def serving_table(frame: pd.DataFrame, comparison: Comparison) -> dict[str, Any]:
    """What serving needs beside the graph (`commerce_ai.pricing.demand.ServingTable`): per SKU its demand
    level, brand and market as the model learned them, the own-price elasticity the shipped myopic policy prices
    with (the brand's estimate, as in the policy study), and the latest week's price and cost, which
    seed the catalog; plus Duan's smearing factor and the fallbacks for SKUs the model never saw."""
    log_units = np.log(frame["units"].to_numpy())
    levels = pd.Series(log_units).groupby(frame["sku"].to_numpy()).mean()
    latest = frame.sort_values("week").groupby("sku").last()
    by_brand = comparison.elasticities.set_index("brand")["elasticity"]
    pooled = float(comparison.constant_elasticity[0])
    table = ServingTable(
        output="log_units",
        smearing=float(comparison.models["lightgbm_smearing"]),
        default_level=float(levels.mean()),
        pooled_elasticity=pooled,
        skus={
            str(sku): SkuProfile(
                level=float(levels[sku]),
                brand=int(brand) if pd.notna(brand := latest.loc[sku, "brand"]) else 0,
                market=_market(latest, sku),
                elasticity=float(by_brand.get(brand, pooled)) if pd.notna(brand) else pooled,
                price=round(float(latest.loc[sku, "price"]), 2),
                cost=_positive_or_none(latest.loc[sku, "cost"]),
            )
            for sku in levels.index
        },
    )
    return table.model_dump(mode="json")


def _market(latest: pd.DataFrame, sku: Any) -> str | None:
    """Where the SKU competes with the other brands whose prices are its cross-price features: the
    store for Dominick's OJ. A user's sales file has no stores, so its SKUs have no market."""
    if "store" not in latest.columns or pd.isna(store := latest.loc[sku, "store"]):
        return None
    return str(int(store))


def _positive_or_none(value: Any) -> float | None:
    return round(float(value), 2) if pd.notna(value) and float(value) > 0 else None


def build_demand_artifact(frame: pd.DataFrame, comparison: Comparison, workdir: Path, source: str) -> Built:
    directory = workdir / MODEL_NAME
    lightgbm_to_onnx(comparison.models["lightgbm"], directory / "model.onnx")
    (directory / SERVING_TABLE).write_text(json.dumps(serving_table(frame, comparison), sort_keys=True))
    metrics = {f"holdout_wape_{name}": round(value, 4) for name, value in comparison.wape.items()}
    training_data = TrainingData(fingerprint=fingerprint(frame), source=source, rows=len(frame))
    return demand_built(directory, training_data, metrics)


def demand_built(directory: Path, training_data: TrainingData, metrics: dict[str, float]) -> Built:
    """The description of a `pricing-demand` artifact whose model.onnx and serving table are in `directory`."""
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(FEATURE_NAMES)])],
        outputs=[TensorSpec(name="variable", dtype="float32", shape=[None, 1])],
        feature_names=list(FEATURE_NAMES),
        training_data=training_data,
        metrics=metrics,
    )

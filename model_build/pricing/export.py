"""Export the chosen demand model to ONNX with the side data serving needs, as one artifact version.

The chosen model is the one with the lower holdout WAPE of the two candidates: LightGBM (as for Dominick's
OJ) or the hierarchical log-log model (which wins on some users' sales files), exported as a small linear
graph over the same features."""

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
from model_build.pricing.demand import BRAND_DEVIATION, Comparison, LogLinearModel

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


def log_linear_to_onnx(model: LogLinearModel, path: Path) -> Path:
    """The hierarchical log-log model as ONNX over `FEATURE_NAMES`: features @ weights (the `sku_level`
    input carries the SKU's fixed effect, with weight 1) plus the SKU brand's deviation from the pooled
    own-price slope times log price. Output `variable` [N, 1] is the predicted log units."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weights = np.zeros((len(FEATURE_NAMES), 1), dtype=np.float32)
    weights[FEATURE_NAMES.index("sku_level"), 0] = 1.0
    brands, deviations = [], []
    for term, coef in zip(model.terms, model.coef, strict=True):
        if term.startswith(BRAND_DEVIATION):
            brands.append(float(term.removeprefix(BRAND_DEVIATION)))
            deviations.append(coef)
        else:
            weights[FEATURE_NAMES.index(term), 0] += coef

    def constant(name: str, values: Any, dtype: Any) -> Any:
        return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)

    initializers = [
        constant("weights", weights, np.float32),
        constant("brand_ids", [brands], np.float32),
        constant("brand_slopes", np.reshape(deviations, (-1, 1)), np.float32),
        constant("brand_column", [FEATURE_NAMES.index("brand")], np.int64),
        constant("log_price_column", [FEATURE_NAMES.index("log_price")], np.int64),
    ]
    nodes = [
        helper.make_node("MatMul", ["features", "weights"], ["linear"]),
        helper.make_node("Gather", ["features", "brand_column"], ["brand"], axis=1),
        helper.make_node("Equal", ["brand", "brand_ids"], ["is_brand"]),
        helper.make_node("Cast", ["is_brand"], ["is_brand_float"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["is_brand_float", "brand_slopes"], ["brand_slope"]),
        helper.make_node("Gather", ["features", "log_price_column"], ["log_price"], axis=1),
        helper.make_node("Mul", ["brand_slope", "log_price"], ["brand_term"]),
        helper.make_node("Add", ["linear", "brand_term"], ["variable"]),
    ]
    graph = helper.make_graph(
        nodes,
        "pricing_demand_loglog",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, len(FEATURE_NAMES)])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializers,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(onnx_model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(onnx_model, str(path))
    return path


def serving_table(frame: pd.DataFrame, comparison: Comparison) -> dict[str, Any]:
    """What serving needs beside the graph (`commerce_ai.pricing.demand.ServingTable`): per SKU its demand
    level, brand and market as the model learned them, the own-price elasticity the shipped myopic policy prices
    with (the brand's estimate, as in the policy study), and the latest week's price and cost, which
    seed the catalog; plus Duan's smearing factor and the fallbacks for SKUs the model never saw.
    The level is the SKU's mean log units for LightGBM, its fixed effect for the log-log model."""
    log_units = np.log(frame["units"].to_numpy())
    if comparison.best_model == "lightgbm":
        levels = pd.Series(log_units).groupby(frame["sku"].to_numpy()).mean()
        default_level, smearing = float(levels.mean()), float(comparison.models["lightgbm_smearing"])
    else:
        loglog: LogLinearModel = comparison.models["hierarchical_loglog"]
        levels = pd.Series(loglog.sku_effect).reindex(frame["sku"].unique())
        levels = levels.fillna(loglog.default_effect)  # a SKU sold only in the holdout weeks
        default_level, smearing = loglog.default_effect, loglog.smearing
    latest = frame.sort_values("week").groupby("sku").last()
    price_low, price_high = frame.groupby("sku")["price"].min(), frame.groupby("sku")["price"].max()
    by_brand = comparison.elasticities.set_index("brand")["elasticity"]
    pooled = float(comparison.constant_elasticity[0])
    table = ServingTable(
        output="log_units",
        smearing=smearing,
        default_level=default_level,
        pooled_elasticity=pooled,
        skus={
            str(sku): SkuProfile(
                level=float(levels[sku]),
                brand=int(brand) if pd.notna(brand := latest.loc[sku, "brand"]) else 0,
                market=_market(latest, sku),
                elasticity=float(by_brand.get(brand, pooled)) if pd.notna(brand) else pooled,
                price=round(float(latest.loc[sku, "price"]), 2),
                cost=_positive_or_none(latest.loc[sku, "cost"]),
                price_range=(round(float(price_low[sku]), 4), round(float(price_high[sku]), 4)),
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
    if comparison.best_model == "lightgbm":
        lightgbm_to_onnx(comparison.models["lightgbm"], directory / "model.onnx")
    else:
        log_linear_to_onnx(comparison.models["hierarchical_loglog"], directory / "model.onnx")
    (directory / SERVING_TABLE).write_text(json.dumps(serving_table(frame, comparison), sort_keys=True))
    metrics = {f"holdout_wape_{name}": round(value, 4) for name, value in comparison.wape.items()}
    source = f"{source}; shipped: {comparison.best_model} (lower holdout WAPE)"
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

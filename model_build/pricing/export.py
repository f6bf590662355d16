"""Export the chosen demand model to ONNX with the side data serving needs, as one artifact version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.pricing.features import FEATURE_NAMES
from model_build import Built
from model_build.pricing.data import fingerprint
from model_build.pricing.demand import Comparison

MODEL_NAME = "pricing-demand"
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
    """What the repricing tick needs beside the graph: each SKU's level and brand, and the smearing factor
    that turns a predicted mean log into an unbiased unit forecast."""
    log_units = np.log(frame["units"].to_numpy())
    levels = pd.Series(log_units).groupby(frame["sku"].to_numpy()).mean()
    brands = frame.groupby("sku")["brand"].first().fillna(0)
    return {
        "output": "log_units",
        "smearing": comparison.models["lightgbm_smearing"],
        "skus": {sku: {"level": float(levels[sku]), "brand": int(brands[sku])} for sku in levels.index},
    }


def build_demand_artifact(frame: pd.DataFrame, comparison: Comparison, workdir: Path, source: str) -> Built:
    directory = workdir / MODEL_NAME
    lightgbm_to_onnx(comparison.models["lightgbm"], directory / "model.onnx")
    (directory / "serving.json").write_text(json.dumps(serving_table(frame, comparison), sort_keys=True))
    metrics = {f"holdout_wape_{name}": round(value, 4) for name, value in comparison.wape.items()}
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(FEATURE_NAMES)])],
        outputs=[TensorSpec(name="variable", dtype="float32", shape=[None, 1])],
        feature_names=list(FEATURE_NAMES),
        training_data=TrainingData(fingerprint=fingerprint(frame), source=source, rows=len(frame)),
        metrics=metrics,
    )

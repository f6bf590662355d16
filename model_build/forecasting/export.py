"""`forecasting-demand`: the three quantile boosters in one ONNX graph (input `features`, output
`quantiles` [N, 3]), plus `calibration.json`; serving needs onnxruntime and numpy only. And
`forecasting-allocation`: the allocation policy the build trained, as `policy.json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.forecasting.allocation import (
    ALLOCATION_MODEL,
    FEATURES,
    POLICY_FILE,
    POLICY_INPUTS,
    POLICY_OUTPUTS,
    AllocationPolicy,
)
from commerce_ai.forecasting.features import FEATURE_NAMES, QUANTILES
from commerce_ai.forecasting.model import CALIBRATION, MODEL_NAME, Calibration
from model_build import Built
from model_build.forecasting.global_model import QuantileModel

OPSET = 15


def quantiles_to_onnx(model: QuantileModel, path: Path) -> Path:
    import onnx
    from onnx import compose, helper
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    width = len(FEATURE_NAMES)
    parts = []
    for i, q in enumerate(QUANTILES):
        converted = convert_lightgbm(
            model.boosters[q], initial_types=[("features", FloatTensorType([None, width]))], target_opset=OPSET
        )
        parts.append(compose.add_prefix(converted, prefix=f"q{i}_", rename_inputs=False))
    first = parts[0].graph
    nodes = [n for p in parts for n in p.graph.node]
    initializers = [t for p in parts for t in p.graph.initializer]
    outputs = [p.graph.output[0].name for p in parts]
    nodes.append(helper.make_node("Concat", outputs, ["quantiles"], axis=1, name="concat_quantiles"))
    graph = helper.make_graph(
        nodes,
        "forecasting_quantiles",
        [first.input[0]],
        [helper.make_tensor_value_info("quantiles", onnx.TensorProto.FLOAT, [None, len(QUANTILES)])],
        initializer=initializers,
    )
    opsets = {o.domain: o.version for p in parts for o in p.opset_import}
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    merged.ir_version = parts[0].ir_version
    onnx.checker.check_model(merged)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(merged, str(path))
    return path


def forecast_built(directory: Path, training_data: TrainingData, metrics: dict[str, float]) -> Built:
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(FEATURE_NAMES)])],
        outputs=[TensorSpec(name="quantiles", dtype="float32", shape=[None, len(QUANTILES)])],
        feature_names=list(FEATURE_NAMES),
        training_data=training_data,
        metrics=metrics,
    )


def write_artifact(
    model: QuantileModel, calibration: Calibration, workdir: Path, training_data: TrainingData, metrics: Any
) -> Built:
    directory = workdir / MODEL_NAME
    quantiles_to_onnx(model, directory / "model.onnx")
    (directory / CALIBRATION).write_text(calibration.to_json())
    return forecast_built(directory, training_data, metrics)


def allocation_built(policy: AllocationPolicy, workdir: Path, training_data: TrainingData) -> Built:
    """`forecasting-allocation`: the allocation study's verdict and learned weights as `policy.json`."""
    directory = workdir / ALLOCATION_MODEL
    directory.mkdir(parents=True, exist_ok=True)
    (directory / POLICY_FILE).write_text(policy.model_dump_json(indent=1))
    metrics = {f"judged_cost_{name.replace('-', '_')}": cost for name, cost in policy.judged_cost.items()}
    metrics["learned_served"] = 1.0 if policy.served_policy == "learned" else 0.0
    return Built(
        name=ALLOCATION_MODEL,
        directory=directory,
        framework="json",
        entrypoint=POLICY_FILE,
        inputs=POLICY_INPUTS,
        outputs=POLICY_OUTPUTS,
        feature_names=list(FEATURES),
        training_data=training_data,
        metrics=metrics,
    )

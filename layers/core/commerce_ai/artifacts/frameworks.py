"""How each artifact framework is opened, and checked against its manifest while opening.

The same function serves two callers: the registry's validator (does this version load, does it match
its schema?) and the serving loader (give me the model object). A framework without an opener here
cannot be registered. Capabilities add theirs in a module `commerce_ai/<capability>/openers.py`, found
when a framework or model is first asked for, so the registry's validator opens them without naming any
capability: `register_opener` for a framework (visual search's faiss), `register_model_opener` for a model
whose serving opener checks more than its framework does (a risk model needs its policy file), so that a
version validates only if the capability could serve it. The validator runs on VisualLayer (onnxruntime,
numpy, faiss, Pillow) and the sweep on MlLayer: an openers module that cannot be imported there is skipped
with a warning (its models are then checked by their framework's opener), so openers should import no more
than those layers hold.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commerce_ai.artifacts.manifest import Manifest, TensorSpec
from commerce_ai.artifacts.onnx_external import check_external_data
from commerce_ai.telemetry import logger

Opener = Callable[[Manifest, Path], Any]


class SchemaMismatch(Exception):
    """The artifact's real inputs/outputs differ from what its manifest declares or serving expects."""


_ORT_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(string)": "string",
    "tensor(bool)": "bool",
}
_sessions: dict[tuple[str, str], Any] = {}
_sessions_lock = threading.Lock()


def onnx_session(path: Path, sha256: str, threads: int = 1) -> Any:
    """A cached `onnxruntime.InferenceSession` per (file, checksum).

    One intra-op thread: on 2-vCPU Lambda sizes a second thread measured slower for single rows.
    """
    import onnxruntime as ort  # the ml layer; imported here so core-only functions never load it

    key = (str(path), sha256)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            try:
                session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # onnxruntime raises its own plain Exception subclasses (InvalidProtobuf...)
                raise SchemaMismatch(f"onnxruntime cannot open {path.name}: {exc}") from exc
            _sessions[key] = session
        return session


def release(directory: Path) -> None:
    """Forget cached sessions for files under `directory` (a validated or superseded version)."""
    prefix = str(directory.resolve()) + "/"
    with _sessions_lock:
        for key in [k for k in _sessions if str(Path(k[0]).resolve()).startswith(prefix)]:
            del _sessions[key]


def _compare(kind: str, declared: list[TensorSpec], actual: list[Any]) -> None:
    if [t.name for t in declared] != [a.name for a in actual]:
        raise SchemaMismatch(
            f"{kind} names {[a.name for a in actual]} differ from manifest {[t.name for t in declared]}"
        )
    for spec, arg in zip(declared, actual, strict=True):
        dtype = _ORT_DTYPES.get(arg.type, arg.type)
        if dtype != spec.dtype:
            raise SchemaMismatch(f"{kind} {spec.name!r} is {dtype}, manifest says {spec.dtype}")
        real_shape = list(arg.shape)
        if len(real_shape) != len(spec.shape):
            raise SchemaMismatch(f"{kind} {spec.name!r} has rank {len(real_shape)}, manifest says {len(spec.shape)}")
        for real, declared_dim in zip(real_shape, spec.shape, strict=True):
            if isinstance(real, int) and declared_dim is not None and real != declared_dim:
                raise SchemaMismatch(f"{kind} {spec.name!r} has shape {real_shape}, manifest says {spec.shape}")


def open_onnx(manifest: Manifest, directory: Path) -> Any:
    check_external_data(manifest, directory)
    session = onnx_session(directory / manifest.entrypoint, manifest.files[manifest.entrypoint].sha256)
    _compare("input", manifest.input_schema.tensors, session.get_inputs())
    _compare("output", manifest.output_schema, session.get_outputs())
    return session


def open_json(manifest: Manifest, directory: Path) -> Any:
    with (directory / manifest.entrypoint).open("rb") as handle:
        return json.load(handle)


_OPENERS: dict[str, Opener] = {"onnx": open_onnx, "json": open_json}
_MODEL_OPENERS: dict[str, Opener] = {}
_discovered = False


def register_opener(framework: str, opener: Opener) -> None:
    _OPENERS[framework] = opener


def register_model_opener(model: str, opener: Opener) -> None:
    """The opener a capability serves model `model` with, used by validation too."""
    _MODEL_OPENERS[model] = opener


OPENERS_MODULE = "openers"


def discover_openers() -> list[str]:
    """Import every `commerce_ai.<capability>.openers` module (each registers its openers); their names."""
    import commerce_ai

    global _discovered
    found = []
    for module in pkgutil.iter_modules(commerce_ai.__path__):
        name = f"commerce_ai.{module.name}.{OPENERS_MODULE}"
        if module.ispkg and importlib.util.find_spec(name) is not None:
            try:
                importlib.import_module(name)
            except ImportError as exc:  # a library this function's layer lacks: see the module docstring
                logger.warning("artifact openers not importable here", extra={"module": name, "missing": exc.name})
                continue
            found.append(name)
    _discovered = True
    return found


def open_artifact(manifest: Manifest, directory: Path) -> Any:
    """Open a version as its capability serves it: the model's own opener, else its framework's."""
    if not _discovered:
        discover_openers()
    model_opener = _MODEL_OPENERS.get(manifest.name)
    if model_opener is not None:
        try:
            return model_opener(manifest, directory)
        except (SchemaMismatch, ImportError):  # ImportError: this function's layer, not the artifact
            raise
        except Exception as exc:  # the files are verified and local: failing to open them is the artifact's fault
            raise SchemaMismatch(f"{manifest.name} does not open as it is served: {type(exc).__name__}: {exc}") from exc
    opener = _OPENERS.get(manifest.framework)
    if opener is None:
        raise SchemaMismatch(f"no opener for framework {manifest.framework!r}")
    return opener(manifest, directory)

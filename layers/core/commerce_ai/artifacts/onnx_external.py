"""ONNX external data kept inside its version: every tensor stored outside the model file must name a file
of the same version that its manifest lists (so it was downloaded and checksummed with the rest).

onnxruntime reads an external tensor from the path its `location` gives, relative to the model file. A
location like `../../risk-model/v1/model.onnx.data` or `/proc/self/environ` would make a version read bytes
nobody validated, so such a model is refused before onnxruntime sees it. The walk reads the protobuf wire
format directly (the serving layers carry onnxruntime, not the `onnx` package): ModelProto.graph (7) ->
GraphProto.initializer (5), sparse_initializer (15), node (1) -> NodeProto.attribute (5) -> AttributeProto
t (5), g (6), tensors (10), graphs (11), sparse_tensor (22), sparse_tensors (23); SparseTensorProto values
(1) and indices (2); TensorProto.external_data (13) -> StringStringEntryProto key (1), value (2).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from commerce_ai.artifacts.manifest import Manifest

# (message, field) -> the message type of a length-delimited field worth descending into.
_CHILDREN: dict[tuple[str, int], str] = {
    ("model", 7): "graph",
    ("graph", 1): "node",
    ("graph", 5): "tensor",
    ("graph", 15): "sparse",
    ("node", 5): "attribute",
    ("attribute", 5): "tensor",
    ("attribute", 6): "graph",
    ("attribute", 10): "tensor",
    ("attribute", 11): "graph",
    ("attribute", 22): "sparse",
    ("attribute", 23): "sparse",
    ("sparse", 1): "tensor",
    ("sparse", 2): "tensor",
    ("tensor", 13): "entry",
}
MAX_DEPTH = 64  # subgraphs nest (If, Loop); a deeper file is refused rather than walked


class ExternalDataRefused(ValueError):
    """An ONNX tensor's external data is not a file of the same version."""


class NotProtobuf(ValueError):
    """The bytes are not protobuf: onnxruntime refuses the file itself, with its own message."""


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise NotProtobuf("the ONNX file is not valid protobuf")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: memoryview) -> Iterator[tuple[int, int, memoryview | None]]:
    """(field number, wire type, payload of a length-delimited field) for each field of one message."""
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, at = _varint(data, at)
            yield number, wire, None
        elif wire == 1:
            at += 8
            yield number, wire, None
        elif wire == 5:
            at += 4
            yield number, wire, None
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise NotProtobuf("the ONNX file is not valid protobuf")
            yield number, wire, data[at : at + length]
            at += length
        else:
            raise NotProtobuf("the ONNX file is not valid protobuf")


def external_locations(data: bytes | memoryview, kind: str = "model", depth: int = 0) -> Iterator[str]:
    """The `location` of every tensor stored as external data in an ONNX model."""
    if depth > MAX_DEPTH:
        raise ExternalDataRefused("the ONNX graph nests too deeply")
    view = memoryview(data)
    if kind == "entry":
        entry = {
            number: bytes(payload).decode("utf-8", "replace")
            for number, _, payload in _fields(view)
            if payload is not None
        }
        if entry.get(1) == "location":
            yield entry.get(2, "")
        return
    for number, _, payload in _fields(view):
        child = _CHILDREN.get((kind, number))
        if child is not None and payload is not None:
            yield from external_locations(payload, child, depth + 1)


def check_external_data(manifest: Manifest, directory: Path) -> None:
    """Refuse an ONNX model whose external data is not one of its own version's listed files."""
    model_file = directory / manifest.entrypoint
    folder = posixpath.dirname(manifest.entrypoint)
    try:
        locations = set(external_locations(model_file.read_bytes()))
    except NotProtobuf:
        return  # onnxruntime refuses it when it opens it
    for location in locations:
        relative = posixpath.normpath(posixpath.join(folder, location)) if location else ""
        if not location or location.startswith("/") or relative.startswith("..") or relative not in manifest.files:
            raise ExternalDataRefused(
                f"{manifest.name}/{manifest.version}: external data {location[:100]!r} is not a file of this version"
            )

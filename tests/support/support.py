"""Customer service's shared test helpers: a small real `support-intents` artifact (the authored training
lines without augmentation or cross-validation, a few seconds), and an in-memory orders backend."""

from __future__ import annotations

from pathlib import Path

from commerce_ai.support import encoder
from model_build import Built
from model_build.support.data import authored
from model_build.support.export import built_intents
from model_build.support.seeding import MemoryOrders
from model_build.support.train import Fitted, fit_head

__all__ = ["MemoryOrders", "built_support"]

QUICK_C = 5.0
QUICK_THRESHOLD = 0.17


def built_support(workdir: Path) -> list[Built]:
    utterances = authored("train")
    vectors = encoder.embed([u.text for u in utterances])
    model = fit_head(vectors, [u.intent for u in utterances], QUICK_C, QUICK_THRESHOLD)
    return [built_intents(Fitted(model, QUICK_C, 0.0, 0.0, len(utterances)), workdir)]

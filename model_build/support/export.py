"""Export the trained intent head as `support-intents` (a JSON document served with numpy)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.support import encoder
from commerce_ai.support.intents import MODEL_FILE, MODEL_NAME
from model_build import Built
from model_build.support.data import INTENT_DATA, LANGUAGES, augmented, authored
from model_build.support.train import Fitted, train


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    for language in LANGUAGES:
        digest.update((INTENT_DATA / f"{language}.train.txt").read_bytes())
    return digest.hexdigest()


def export_intents(workdir: Path) -> Built:
    from threadpoolctl import threadpool_limits

    from model_build.progress import stage

    with threadpool_limits(1):  # more BLAS threads than cores only contend on a shared machine
        with stage("embed the authored intent data"):
            utterances = augmented(authored("train"))
            vectors = encoder.embed([u.text for u in utterances])
        with stage("fit the intent head, choose C and the threshold by grouped cross-validation"):
            fitted = train(utterances, vectors)
    return built_intents(fitted, workdir)


def built_intents(fitted: Fitted, workdir: Path) -> Built:
    directory = workdir / MODEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL_FILE).write_text(json.dumps(fitted.model.document()), encoding="utf-8")
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="json",
        entrypoint=MODEL_FILE,
        # The head reads the encoder's vectors; the encoder (named in feature_names) reads the text.
        inputs=[TensorSpec(name="text", dtype="string", shape=[None, 1])],
        outputs=[TensorSpec(name="probabilities", dtype="float64", shape=[None, len(fitted.model.classes)])],
        feature_names=[encoder.encoder_name()],
        training_data=TrainingData(
            fingerprint=training_fingerprint(),
            source="authored bilingual utterances, model_build/support/data/intents/*.train.txt, 3 augmented "
            "copies each (seed 15)",
            rows=fitted.rows,
        ),
        metrics={
            "validation_accuracy": round(fitted.validation_accuracy, 4),
            "validation_accuracy_no_threshold": round(fitted.validation_accuracy_no_threshold, 4),
            "threshold": fitted.model.threshold,
            "c": fitted.c,
        },
    )

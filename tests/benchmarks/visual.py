"""Visual search benchmark (`--only visual`): `POST /visual/search` through the Chalice handler with a
100,000-item index against its bare floor, and the index build time.

- The index: the built `visual-index`'s 60,000 embeddings replicated with jitter to 100,000 (as the report's
  sweep), IVF-PQ at the shipped settings; its build time against a flat index's `add` of the same vectors.
- Handler: the Chalice app with an API Gateway proxy event carrying a base64 PNG of a test image (decode,
  the catalogue pixel path, ONNX embedder, colour/shape/texture, IVF-PQ search, exact re-rank), without the
  catalogue's BatchGetItem (no CATALOG_TABLE: the emulator's cost is measured by the other sections) and with
  an empty add-log.
- Bare floor, interleaved call by call: `session.run` of the embedder on the same precomputed pixels plus
  faiss `search` of the same query for the re-rank depth, no Python around them.
The function's deployed size against the 120 MB goal is in the `sizes` section (VisualApiFunction).
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from commerce_ai.visual import service
from commerce_ai.visual.categories import CATEGORIES
from commerce_ai.visual.images import catalogue_pixels, decode_image, grey
from commerce_ai.visual.index import EMBEDDING, LOGITS, PIXELS, Entries, VisualIndex, build_ivfpq, open_faiss
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.template import Stack
from model_build import Built, manifest_for
from model_build.visual.embedder import DIMENSION
from tests.benchmarks._report import Report, heading, percentile, ratio
from tests.support.local_aws import patched_environ
from tests.support.visual import encoded

ITEMS = 100_000
BUILT = Path("build/models/visual")


def _event(png: bytes) -> dict[str, Any]:
    return {
        "resource": "/visual/search",
        "path": "/visual/search",
        "httpMethod": "POST",
        "headers": {"Content-Type": "image/png"},
        "multiValueHeaders": {"Content-Type": ["image/png"]},
        "queryStringParameters": {"n": "10"},
        "multiValueQueryStringParameters": {"n": ["10"]},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/visual/search",
            "httpMethod": "POST",
            "path": "/Prod/visual/search",
            "stage": "Prod",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }


def run(report: Report, calls: int = 500) -> None:
    from model_build.visual import build
    from model_build.visual.data import read_fashion_mnist
    from model_build.visual.report import replicate

    heading("Visual search: POST /visual/search at 100,000 items")
    directory = BUILT / "visual-index"
    if not (directory / "index.faiss").is_file():  # `commerce-ai train visual` leaves it there
        build(BUILT)
    manifest = manifest_for(
        Built(
            name="visual-index",
            directory=directory,
            framework="faiss",
            entrypoint="index.faiss",
            inputs=[TensorSpec(name=PIXELS, dtype="float32", shape=[None, 1, 28, 28])],
            outputs=[
                TensorSpec(name=EMBEDDING, dtype="float32", shape=[None, DIMENSION]),
                TensorSpec(name=LOGITS, dtype="float32", shape=[None, len(CATEGORIES)]),
            ],
            feature_names=[],
            training_data=TrainingData(fingerprint="bench", source="build/models/visual"),
            metrics={},
        )
    )
    served = open_faiss(manifest, directory)
    vectors = replicate(np.asarray(served.vectors), ITEMS)
    started = time.perf_counter()
    index = build_ivfpq(vectors, served.settings)
    build_seconds = time.perf_counter() - started
    import faiss

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    flat_seconds = time.perf_counter() - started
    n = len(vectors)
    codes = {k: np.resize(v, n).astype(np.int8) for k, v in served.entries.codes.items()}
    entries = Entries([f"bench-{i}" for i in range(n)], list(np.resize(np.array(served.entries.categories), n)), codes)
    big = VisualIndex(index, vectors, entries, served.settings, served.built_at, served.embedder)
    loaded = LoadedModel("visual-index", "bench", manifest, big, directory)

    class _Loader:
        def get(self) -> LoadedModel[VisualIndex]:
            return loaded

    images = read_fashion_mnist().test.images[:50]
    pngs = [encoded(np.asarray(image)) for image in images]
    pixels = [catalogue_pixels(grey(decode_image(p).image))[None, None] for p in pngs]
    stack = Stack()
    fn = stack.function("VisualApiFunction")
    # No catalogue, add-log or heartbeat table: the handler's compute, not the emulator's calls.
    environment = {**fn.environment, "CATALOG_TABLE": "", "VISUAL_DELTAS_TABLE": "", "HEALTH_TABLE": ""}
    handler_times, bare_times = [], []
    with patched_environ(environment):
        service.index_loader.cache_clear()
        service.catalogue.cache_clear()
        service.delta_cache.forget()
        original = service.index_loader
        service.index_loader = lambda: _Loader()  # type: ignore[assignment]
        try:
            handler = load_handler(fn.code_uri, fn.module, fn.attribute)
            context = LambdaContext(fn.physical_name, fn.memory, fn.timeout)
            for i in range(calls):
                event = _event(pngs[i % len(pngs)])
                started = time.perf_counter()
                answer = handler(event, context)
                handler_times.append(time.perf_counter() - started)
                assert answer["statusCode"] == 200, answer
                started = time.perf_counter()
                query = served.embedder.run([EMBEDDING], {PIXELS: pixels[i % len(pixels)]})[0][0]
                index.search(query[None], served.settings.rerank)
                bare_times.append(time.perf_counter() - started)
        finally:
            service.index_loader = original
    for pct in (50, 99):
        mine, floor = percentile(handler_times, pct) * 1000, percentile(bare_times, pct) * 1000
        report.add("visual", f"search handler p{pct} (ms)", f"{mine:.2f}", f"{floor:.2f}", ratio(mine, floor))
        print(
            f"  p{pct}: handler {mine:.2f} ms, bare ORT + faiss {floor:.2f} ms, {ratio(mine, floor):.1f}x", flush=True
        )
    report.add(
        "visual",
        "IVF-PQ build, 100k (s)",
        f"{build_seconds:.1f}",
        f"{flat_seconds:.2f}",
        ratio(build_seconds, flat_seconds),
    )
    print(f"  index build: IVF-PQ {build_seconds:.1f} s, flat add {flat_seconds:.2f} s", flush=True)

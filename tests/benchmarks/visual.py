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
- What AWS would bill per search (`billed_searches`): the same handler on the same index with the shop's
  catalogue and the add-log (in-process moto, the template's tables; the hits' catalogue items seeded first),
  every AWS call counted (`_cost.counting_calls`) and billed (`_cost.bill`), plus the API request, the
  invocation and the Lambda compute of the measured p50 at the function's memory size.
The function's deployed size against the 120 MB goal is in the `sizes` section (VisualApiFunction).
"""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime
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
from tests.benchmarks._cost import bill, counting_calls
from tests.benchmarks._report import Report, heading, percentile, ratio
from tests.support.local_aws import patched_environ
from tests.support.visual import encoded

ITEMS = 100_000
BUILT = Path("build/models/visual")
BILLED_SEARCHES = 50
LAMBDA_GB_SECOND = 0.0000166667  # dollars, x86_64, us-east-1 list price (December 2026)


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
    p50_seconds = percentile(handler_times, 50)
    billed = billed_searches(_Loader(), pngs, fn.memory, p50_seconds)
    report.add(
        "visual",
        "AWS bill per 1,000 searches ($)",
        f"{billed['dollars'] * 1000 / BILLED_SEARCHES:.4f}",
        "",
        None,
        "API Gateway, Lambda (requests and p50 compute), DynamoDB reads (_cost.py)",
    )


def billed_searches(loader: Any, pngs: list[bytes], memory_mb: int, p50_seconds: float) -> dict[str, float]:
    """What AWS would bill for BILLED_SEARCHES searches with the catalogue and the add-log configured."""
    from moto import mock_aws

    from commerce_ai import aws
    from commerce_ai.catalog.items import CatalogItem
    from commerce_ai.catalog.store import Catalog
    from infra.bootstrap import bootstrap

    stack = Stack()
    fn = stack.function("VisualApiFunction")
    fake = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}
    endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)  # moto in process answers AWS's own endpoints
    with mock_aws(), patched_environ(fake):
        bootstrap(stack)
        environment = {**fn.environment, **fake, "HEALTH_TABLE": ""}  # the heartbeat is the platform's cost
        with patched_environ(environment):
            service.catalogue.cache_clear()
            service.delta_cache.forget()
            original = service.index_loader
            service.index_loader = lambda: loader  # type: ignore[assignment]
            try:
                handler = load_handler(fn.code_uri, fn.module, fn.attribute)
                context = LambdaContext(fn.physical_name, fn.memory, fn.timeout)
                hits: set[str] = set()
                for png in pngs:  # the items the searches will read, in the catalogue first (not billed)
                    body = handler(_event(png), context)["body"]
                    hits |= {item["item_id"] for item in json.loads(body)["results"]}
                now = datetime.now(UTC)
                Catalog.from_settings().put_many(
                    [CatalogItem(item_id=i, title=f"bench {i}", category="bench", updated_at=now) for i in sorted(hits)]
                )
                service.delta_cache.forget()  # a fresh container: its first search reads the add-log
                with counting_calls() as calls:
                    for i in range(BILLED_SEARCHES):
                        answer = handler(_event(pngs[i % len(pngs)]), context)
                        assert answer["statusCode"] == 200, answer
            finally:
                service.index_loader = original
                service.catalogue.cache_clear()
                service.delta_cache.forget()
    if endpoint is not None:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    aws.reset_clients()
    billed = bill(calls, api_requests=BILLED_SEARCHES, lambda_invocations=BILLED_SEARCHES)
    compute = BILLED_SEARCHES * p50_seconds * memory_mb / 1024 * LAMBDA_GB_SECOND
    billed["lambda_compute"] = compute
    billed["dollars"] += compute
    per = 1000 / BILLED_SEARCHES
    print(
        f"  AWS bill per 1,000 searches: {billed['dollars'] * per:.4f} $"
        f" (API {billed['api_request'] * per:.0f} requests,"
        f" Lambda {billed['lambda_invocation'] * per:.0f} invocations and {compute * per:.5f} $ of compute at"
        f" {memory_mb} MB x p50, DynamoDB {billed['dynamodb_rru'] * per:.1f} read units; calls:"
        f" {dict(calls.calls)})",
        flush=True,
    )
    return billed

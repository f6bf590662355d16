"""Visual search on the emulator (real boto3, the template bootstrapped): the small real `visual-index` and
`visual-scene` (tests/support/visual.py) published and validated by the registry (the `faiss` opener found by
discovery), search by a binary image body through the local gateway (base64, as API Gateway sends it), a
product image uploaded under `catalog/images/` announced by S3, embedded by its function and searchable at
once, a poison message alone in the DLQ path, and the rebuild folding the add-log into a new active version."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.catalog.store import Catalog
from commerce_ai.visual import service
from commerce_ai.visual.deltas import DeltaLog
from commerce_ai.visual.index import MODEL_NAME
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import publish
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import drain, gateway_for
from tests.support.invoke import in_process
from tests.support.visual import built_visual, catalogue_image, encoded, product_photo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def models(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    versions = {}
    for built in built_visual(tmp_path_factory.mktemp("visual")):
        manifest = publish(store, built)
        drain(stack, registry, built.name, versions=len(registry.versions(built.name)) + 1)
        record = registry.get_version(built.name, manifest.version)
        assert record.state != "quarantined", record.reason
        registry.activate(built.name, manifest.version)
        versions[built.name] = manifest.version
    return versions


@pytest.fixture(autouse=True)
def fresh_container(stack: Stack) -> None:
    for cached in (service.index_loader, service.scene_loader, service.catalogue):
        cached.cache_clear()
    service.delta_cache.forget()


def post_image(stack: Stack, path: str, body: bytes, content_type: str = "image/png") -> tuple[int, Any]:
    status, _, payload = gateway_for(stack).handle("POST", path, {"Content-Type": content_type}, body, "127.0.0.1")
    return status, json.loads(payload)


def images_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("VisualImagesQueue"))["QueueUrl"]
    return QueueSource(
        "VisualIndexingFunction", url, stack.arn("VisualImagesQueue"), batch_size=5, report_failures=True
    )


def upload_and_index(stack: Stack, key: str, data: bytes) -> None:
    source = images_source(stack)
    aws.client("s3").put_object(Bucket=stack.physical_name("UploadsBucket"), Key=key, Body=data)
    invoke = in_process(stack)
    for _ in range(10):
        if source.poll_once(invoke, threading.Event(), wait_seconds=1):
            return
    raise AssertionError(f"S3 announced nothing for {key}")


def test_a_binary_image_body_is_searched_through_the_gateway(stack: Stack, models: dict[str, str]) -> None:
    status, found = post_image(stack, "/visual/search?n=3", encoded(catalogue_image(11)))
    assert status == 200, found
    assert found["results"][0]["item_id"] == "fmnist-11" and found["index_version"] == models[MODEL_NAME]
    status, scene = post_image(stack, "/visual/scene", product_photo(2), "image/jpeg")
    assert status == 200 and len(scene["labels"]) == 5
    status, refused = post_image(stack, "/visual/search", b"GIF89a not ours", "application/octet-stream")
    assert status == 415 and refused["Code"] == "UnsupportedMediaType"


def test_an_uploaded_product_image_is_searchable_then_folded_by_the_rebuild(
    stack: Stack, models: dict[str, str]
) -> None:
    empty_queue(images_source(stack).queue_url)
    upload_and_index(stack, "catalog/images/it-visual-1.jpg", product_photo(5))
    added = Catalog(stack.physical_name("CatalogTable")).get("it-visual-1")
    assert added is not None and added.image_url and added.image_url.endswith("catalog/images/it-visual-1.jpg")
    assert [d.item_id for d in DeltaLog(stack.physical_name("VisualDeltasTable")).all()] == ["it-visual-1"]

    status, found = post_image(stack, "/visual/search?n=1", product_photo(5), "image/jpeg")
    assert status == 200 and found["results"][0]["item_id"] == "it-visual-1"  # the same photo: score 1

    result = in_process(stack)("VisualRebuildFunction", {"detail-type": "Scheduled Event"})
    assert result["outcome"] == "activated" and result["folded"] == 1 and result["removed_from_log"] == 1
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    assert registry.active_version(MODEL_NAME) == result["index_version"] != models[MODEL_NAME]
    assert DeltaLog(stack.physical_name("VisualDeltasTable")).all() == []
    for cached in (service.index_loader, service.catalogue):
        cached.cache_clear()
    service.delta_cache.forget()
    status, found = post_image(stack, "/visual/search?n=1", product_photo(5), "image/jpeg")
    assert status == 200 and found["results"][0]["item_id"] == "it-visual-1"  # now from the index itself
    registry.activate(MODEL_NAME, models[MODEL_NAME])  # leave the module's version active


def test_a_broken_upload_is_refused_and_a_poison_message_fails_alone(stack: Stack, models: dict[str, str]) -> None:
    source = images_source(stack)
    empty_queue(source.queue_url)
    upload_and_index(stack, "catalog/images/it-broken.png", encoded(catalogue_image(1))[:40])
    assert Catalog(stack.physical_name("CatalogTable")).get("it-broken") is None
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=source.queue_url, MessageBody="not an S3 notification")
    batch = source.receive_batch(threading.Event())
    assert len(batch) == 1 and source.process(batch, in_process(stack)) == {batch[0]["MessageId"]}

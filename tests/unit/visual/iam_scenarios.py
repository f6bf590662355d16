"""Visual search's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The
scenarios serve a small real `visual-index` and `visual-scene` (tests/support/visual.py, built once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.visual import service
from tests.support.events import sample
from tests.support.visual import built_visual, catalogue_image, encoded
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (service.index_loader, service.scene_loader, service.catalogue)


def _serve(world: World) -> None:
    service.delta_cache.forget()
    world.serve(world.built("visual", built_visual))


def run_visual_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "VisualApiFunction", tmp_path)
    _serve(world)
    world.forget_setup()
    png = {"Content-Type": "image/png"}
    with Client(handler) as client:
        found = client.http.post("/visual/search?n=3&colour=red", headers=png, body=encoded(catalogue_image(0)))
        assert found.status_code == 200, found.body
        assert client.http.get("/visual/similar/fmnist-0?n=3").status_code == 200
        scene = client.http.post("/visual/scene", headers=png, body=encoded(catalogue_image(1)))
        assert scene.status_code == 200, scene.body


def run_visual_indexing(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "VisualIndexingFunction", tmp_path)
    _serve(world)
    bucket = STACK.physical_name("UploadsBucket")
    world.aws.s3.put_object(Bucket=bucket, Key="catalog/images/shirt-1001.png", Body=encoded(catalogue_image(2)))
    world.forget_setup()
    assert handler(sample("visual/VisualIndexingFunction-ProductImage.json"), context) == {"batchItemFailures": []}


def run_visual_rebuild(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run_visual_indexing(world, monkeypatch, tmp_path / "indexing")  # something in the add-log to fold
    for cached in CACHED:
        cached.cache_clear()
    handler, context = configure(monkeypatch, "VisualRebuildFunction", tmp_path)
    world.forget_setup()
    assert handler(sample("visual/VisualRebuildFunction-Daily.json"), context)["outcome"] == "activated"


SCENARIOS: dict[str, Scenario] = {
    "VisualApiFunction": run_visual_api,
    "VisualIndexingFunction": run_visual_indexing,
    "VisualRebuildFunction": run_visual_rebuild,
}

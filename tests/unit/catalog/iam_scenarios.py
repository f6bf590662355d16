"""The catalogue's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai.catalog.items import ItemFields
from commerce_ai.catalog.store import Catalog
from tests.support.events import sample
from tests.unit.iam import STACK, Scenario, World, configure

PUT_SAMPLE = "catalog/CatalogAdminFunction-PutItem.json"


def run_catalog_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "CatalogApiFunction", tmp_path)
    fields = ItemFields.model_validate_json(sample(PUT_SAMPLE)["body"])
    Catalog.from_settings().put(fields.at("oj-trop-64", datetime(2026, 12, 1, tzinfo=UTC)))
    world.forget_setup()
    with Client(handler) as client:
        assert client.http.get("/catalog/items/oj-trop-64").status_code == 200
        assert client.http.get("/catalog/items?limit=5").status_code == 200


def run_catalog_admin(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "CatalogAdminFunction", tmp_path)
    world.ssm.values[STACK.function("CatalogAdminFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        put = client.http.put("/catalog/items/oj-trop-64", headers=admin, body=sample(PUT_SAMPLE)["body"])
        assert put.status_code == 200, put.body
        assert client.http.delete("/catalog/items/oj-trop-64", headers=admin).status_code == 200


def run_catalog_import(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "CatalogImportFunction", tmp_path)
    bucket = STACK.physical_name("UploadsBucket")
    world.aws.s3.put_object(
        Bucket=bucket, Key="uploads/catalog/items-2026-12-05.csv", Body=b"item_id,title,category\noj-1,OJ,juice\n"
    )
    world.forget_setup()
    assert handler(sample("catalog/CatalogImportFunction-CatalogUpload.json"), context) == {"batchItemFailures": []}
    assert (bucket, "uploads/catalog/items-2026-12-05.csv.status.json") in world.aws.s3.objects


SCENARIOS: dict[str, Scenario] = {
    "CatalogApiFunction": run_catalog_api,
    "CatalogAdminFunction": run_catalog_admin,
    "CatalogImportFunction": run_catalog_import,
}

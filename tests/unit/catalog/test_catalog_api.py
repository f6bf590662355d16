"""The catalogue's routes (functions/catalog/app.py for reads, admin.py for writes) through Chalice's test
client over in-memory AWS: reads open, writes admin-only, bad input a 4xx that names the problem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.catalog.settings import settings
from infra.runner.invoker import load_handler
from infra.template import Stack
from tests.unit.fakes import FakeAws, FakeDynamoDB, FakeSSMProvider

ADMIN = {"Content-Type": "application/json", "x-api-key": "unit-admin-key"}
ITEM = {"title": "Tropicana 64 oz", "category": "juice", "price": 3.49, "stock": 0}


class _ByMethod:
    """What API Gateway does with the two catalogue functions: reads go to CatalogApiFunction, writes to
    CatalogAdminFunction."""

    def __init__(self, reads: Any, writes: Any) -> None:
        self.get = reads.http.get
        self.put, self.delete = writes.http.put, writes.http.delete


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> Iterator[Any]:
    stack = Stack()
    reads, writes = stack.function("CatalogApiFunction"), stack.function("CatalogAdminFunction")
    for key, value in {**reads.environment, **writes.environment}.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    fake_aws.dynamodb = FakeDynamoDB(key_schemas={reads.environment["CATALOG_TABLE"]: ("item_id",)})
    monkeypatch.setattr(
        http, "_ssm_provider", FakeSSMProvider({writes.environment["ADMIN_API_KEY_PARAMETER"]: "unit-admin-key"})
    )
    with (
        Client(load_handler(reads.code_uri, reads.module, reads.attribute)) as read_client,
        Client(load_handler(writes.code_uri, writes.module, writes.attribute)) as write_client,
    ):
        yield SimpleNamespace(http=_ByMethod(read_client, write_client))


def call(
    client: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    response = getattr(client.http, method)(path, headers=headers or {}, body=data)
    return response.status_code, json.loads(response.body)


def test_an_admin_puts_and_anyone_reads(client: Any) -> None:
    status, put = call(client, "put", "/catalog/items/oj-1", ITEM, ADMIN)
    assert status == 200 and put["in_stock"] is False and put["updated_at"].endswith("Z")
    assert call(client, "get", "/catalog/items/oj-1") == (200, put)
    status, page = call(client, "get", "/catalog/items?limit=10")
    assert status == 200 and [i["item_id"] for i in page["items"]] == ["oj-1"] and page["next_cursor"] is None


def test_writes_need_the_admin_key(client: Any) -> None:
    assert call(client, "put", "/catalog/items/oj-1", ITEM, {"Content-Type": "application/json"})[0] == 401
    wrong = {**ADMIN, "x-api-key": "nope"}
    assert call(client, "put", "/catalog/items/oj-1", ITEM, wrong)[0] == 403
    assert call(client, "delete", "/catalog/items/oj-1", None, wrong)[0] == 403


def test_unknown_items_are_404(client: Any) -> None:
    status, body = call(client, "get", "/catalog/items/nope")
    assert status == 404 and "nope" in json.dumps(body)
    assert call(client, "delete", "/catalog/items/nope", None, ADMIN)[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "juice"}, "title"),
        ({**ITEM, "price": "3.49"}, "price"),
        ({**ITEM, "colour": "orange"}, "colour"),
        ({**ITEM, "attributes": {"a": [1]}}, "attributes"),
    ],
)
def test_a_bad_item_is_a_400_naming_the_field(client: Any, body: dict[str, Any], field: str) -> None:
    status, answer = call(client, "put", "/catalog/items/oj-1", body, ADMIN)
    assert status == 400 and field in json.dumps(answer)


def test_a_bad_cursor_is_a_400(client: Any) -> None:
    assert call(client, "get", "/catalog/items?cursor=garbage")[0] == 400

"""The catalogue's domain code over the fakes: item rules, the store's round trip, the all-or-nothing import."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from commerce_ai.catalog.imports import ImportRejected, import_items, is_import, parse_upload, status_key
from commerce_ai.catalog.items import ItemFields
from commerce_ai.catalog.store import Catalog
from commerce_ai.stream.schema import format_timestamp
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
TABLE = "catalog"


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(TABLE, dynamodb=FakeDynamoDB(key_schemas={TABLE: ("item_id",)}))


def test_stock_decides_in_stock_unless_given() -> None:
    assert ItemFields(title="t", category="c").at("a", NOW).in_stock is True
    assert ItemFields(title="t", category="c", stock=0).at("a", NOW).in_stock is False
    assert ItemFields(title="t", category="c", stock=0, in_stock=True).at("a", NOW).in_stock is True


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "", "category": "c"},
        {"title": "t", "category": "c", "price": -1.0},
        {"title": "t", "category": "c", "image_url": "javascript:alert(1)"},
        {"title": "t", "category": "c", "attributes": {"1bad": "x"}},
        {"title": "t", "category": "c", "attributes": {"notes": "x" * 3000}},
        {"title": "t", "category": "c", "attributes": {"nested": {"a": 1}}},
        {"title": "t", "category": "c", "attributes": {"huge": 1e300}},
        {"title": "t", "category": "c", "colour": "red"},
    ],
)
def test_bad_fields_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ItemFields.model_validate(fields)


def test_an_item_round_trips_through_the_table(catalog: Catalog) -> None:
    item = ItemFields(
        title="Tropicana 64 oz",
        category="juice",
        brand="Tropicana",
        price=3.49,
        stock=12,
        attributes={"size_oz": 64.0, "organic": False, "pulp": "none"},
    ).at("oj-1", NOW)
    catalog.put(item)
    assert catalog.get("oj-1") == item
    assert catalog.get("missing") is None


def test_get_many_reads_in_batches_and_skips_unknown_ids(catalog: Catalog) -> None:
    catalog.put_many(ItemFields(title=f"t{n}", category="c").at(f"i-{n}", NOW) for n in range(130))
    found = catalog.get_many([f"i-{n}" for n in range(0, 130, 2)] + ["i-0", "nope"])
    assert sorted(found) == sorted(f"i-{n}" for n in range(0, 130, 2))


def test_pages_cover_the_catalogue_once(catalog: Catalog) -> None:
    catalog.put_many(ItemFields(title=f"t{n}", category="c").at(f"i-{n:03d}", NOW) for n in range(7))
    seen, cursor = [], None
    while True:
        items, cursor = catalog.page(3, cursor)
        seen += [i.item_id for i in items]
        if cursor is None:
            break
    assert sorted(seen) == [f"i-{n:03d}" for n in range(7)]


def test_delete_says_whether_there_was_an_item(catalog: Catalog) -> None:
    catalog.put(ItemFields(title="t", category="c").at("a", NOW))
    assert catalog.delete("a") is True
    assert catalog.delete("a") is False


CSV = (
    b"item_id,title,category,brand,price,in_stock,stock,colour\n"
    b"oj-1,OJ one,juice,Trop,2.5,yes,,orange\n"
    b"oj-2,OJ two,juice,,,,0,\n"
)


def test_a_csv_import_reads_typed_columns_and_attributes(catalog: Catalog) -> None:
    status = import_items(catalog, "uploads/catalog/a.csv", CSV, NOW)
    assert (status.status, status.items) == ("imported", 2)
    one, two = catalog.get("oj-1"), catalog.get("oj-2")
    assert one is not None and two is not None
    assert (one.price, one.in_stock, one.brand, one.attributes) == (2.5, True, "Trop", {"colour": "orange"})
    assert (two.price, two.in_stock, two.stock, two.attributes) == (None, False, 0.0, {})


def test_the_status_says_when_the_import_started_and_when_it_ended(catalog: Catalog) -> None:
    ended = NOW + timedelta(seconds=42)
    status = import_items(catalog, "uploads/catalog/a.csv", CSV, NOW, clock=lambda: ended)
    assert (status.started_at, status.finished_at) == (format_timestamp(NOW), format_timestamp(ended))
    stored = catalog.get("oj-1")
    assert stored is not None and stored.updated_at == NOW


def test_a_jsonl_import_is_strict_json() -> None:
    good = b'{"item_id": "a", "title": "t", "category": "c", "price": 2}\n\n'
    good += b'{"item_id": "b", "title": "t", "category": "c"}\n'
    assert [i.item_id for i in parse_upload("x.jsonl", good)] == ["a", "b"]
    with pytest.raises(ImportRejected) as rejected:
        parse_upload("x.jsonl", b'{"item_id": "a", "title": "t", "category": "c", "price": "2"}\n[1]\n{oops\n')
    assert [p.split(":")[0] for p in rejected.value.problems] == ["line 1", "line 2", "line 3"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"id,title,category\n1,t,c\n", "line 1: the header lacks item_id"),
        (b"item_id,title,category\na,t,c\nb,t\n", "line 3: category"),  # a short row leaves category empty
        (b"item_id,title,category,price\na,t,c,cheap\n", "line 2: price: 'cheap' is not a number"),
        (b"item_id,title,category,in_stock\na,t,c,maybe\n", "line 2: in_stock"),
        (b"item_id,title,category\na,t,c\na,t,c\n", "line 3: item_id a is also on line 2"),
        (b"item_id,title,category\na,t,c,extra\n", "line 2: more cells than the header has columns"),
        (b"item_id,title,category\nbad/id,t,c\n", "line 2: item_id"),
        (b"item_id,title,category\n", "the file holds no items"),
        (b"item_id,title,category\n\xff,t,c\n", "not UTF-8"),
    ],
)
def test_a_bad_csv_names_its_line_and_writes_nothing(catalog: Catalog, data: bytes, problem: str) -> None:
    status = import_items(catalog, "uploads/catalog/a.csv", data, NOW)
    assert status.status == "rejected" and status.items == 0
    assert any(problem in p for p in status.problems), status.problems
    assert catalog.page(10, None)[0] == []


def test_one_bad_line_rejects_the_whole_file(catalog: Catalog) -> None:
    status = import_items(catalog, "uploads/catalog/a.csv", CSV + b"oj-3,,juice\n", NOW)
    assert (status.status, status.problem_count) == ("rejected", 1)
    assert catalog.get("oj-1") is None
    assert json.loads(json.dumps(status.as_json()))["problems"][0].startswith("line 4: title")


def test_only_csv_and_jsonl_under_the_prefix_are_imports() -> None:
    assert is_import("uploads/catalog/x.csv") and is_import("uploads/catalog/sub/x.jsonl")
    assert not is_import("uploads/catalog/x.csv.status.json") and not is_import("uploads/forecasts/x.csv")
    assert status_key("uploads/catalog/x.csv") == "uploads/catalog/x.csv.status.json"

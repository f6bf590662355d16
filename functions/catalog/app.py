"""The shop's catalogue over HTTP (API Gateway -> Chalice): read by anyone, written by admins.

Glue only: `commerce_ai.catalog` validates and stores. Item details are what a storefront shows, so reads
need no key; a write changes what every capability recommends, finds and answers, so it needs the admin key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.catalog.contract import ItemPath, ItemRemoved, ItemsQuery
from commerce_ai.catalog.items import CatalogItem, ItemFields
from commerce_ai.catalog.store import Catalog
from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.paging import Page

app = json_api("catalog")


@app.route("/catalog/items", methods=["GET"], query=ItemsQuery, response=Page[CatalogItem])
def list_items(query: ItemsQuery) -> Page[CatalogItem]:
    """The catalogue's items, paged (in the table's order, not sorted)."""
    items, cursor = Catalog.from_settings().page(query.limit, query.cursor)
    return Page[CatalogItem](items=items, next_cursor=cursor)


@app.route("/catalog/items/{item_id}", path_params=ItemPath, methods=["GET"], response=CatalogItem, errors=(404,))
def get_item(item_id: str) -> CatalogItem:
    """One item."""
    item = Catalog.from_settings().get(item_id)
    if item is None:
        raise NotFound(f"the catalogue has no item {item_id}")
    return item


@app.route(
    "/catalog/items/{item_id}",
    path_params=ItemPath,
    methods=["PUT"],
    request=ItemFields,
    response=CatalogItem,
    admin=True,
)
def put_item(item_id: str, body: ItemFields) -> CatalogItem:
    """Create or replace an item (admin); fields left out are not kept from an earlier version."""
    item = body.at(item_id, datetime.now(UTC))
    Catalog.from_settings().put(item)
    return item


@app.route(
    "/catalog/items/{item_id}",
    path_params=ItemPath,
    methods=["DELETE"],
    response=ItemRemoved,
    admin=True,
    errors=(404,),
)
def delete_item(item_id: str) -> ItemRemoved:
    """Take an item out of the catalogue (admin)."""
    if not Catalog.from_settings().delete(item_id):
        raise NotFound(f"the catalogue has no item {item_id}")
    return ItemRemoved(item_id=item_id, removed=True)

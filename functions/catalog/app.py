"""The shop's catalogue over HTTP (API Gateway -> Chalice), read by anyone: item details are what a
storefront shows, so reads need no key. Writes are `admin.py`'s, a function of their own whose role may
write the table (README, "Least privilege"); this one may only read it.

Glue only: `commerce_ai.catalog` validates and stores.
"""

from __future__ import annotations

from commerce_ai.catalog.contract import ItemPath, ItemsQuery
from commerce_ai.catalog.items import CatalogItem
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

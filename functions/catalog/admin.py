"""The catalogue's writes over HTTP (admin key): a write changes what every capability recommends, finds
and answers. A function of its own (CatalogAdminFunction), so that the public reads (`app.py`) run with a
role that cannot write the table.

Glue only: `commerce_ai.catalog` validates and stores.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.catalog.contract import ItemPath, ItemRemoved
from commerce_ai.catalog.items import CatalogItem, ItemFields
from commerce_ai.catalog.store import Catalog
from commerce_ai.errors import NotFound
from commerce_ai.http import json_api

app = json_api("catalog-admin")


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

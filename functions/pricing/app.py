"""Pricing HTTP API (API Gateway -> Chalice): the catalog's SKUs and prices, and admin SKU settings."""

from __future__ import annotations

import re
from typing import Any

from commerce_ai.config import settings
from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api, parse_body, require_admin
from commerce_ai.pricing.catalog import CatalogStore, SkuSettings
from commerce_ai.pricing.observations import IDENTIFIER

app = json_api("pricing")


def _catalog() -> CatalogStore:
    return CatalogStore(settings().need("pricing_catalog_table"))


def _sku(sku: str) -> str:
    if not re.fullmatch(IDENTIFIER, sku):
        raise InvalidInput(f"SKU {sku!r} is not valid (letters, digits and . _ : / -, up to 128)")
    return sku


@app.route("/pricing/skus", methods=["GET"])
def list_skus() -> dict[str, Any]:
    query: dict[str, str] = dict(app.request().query_params or {})
    try:
        limit = int(query.get("limit", "50"))
    except ValueError as exc:
        raise InvalidInput("limit must be an integer") from exc
    states, cursor = _catalog().page(limit, query.get("cursor"))
    return {
        "skus": [{"sku": s.sku, "price": s.price, "stage": s.stage.value} for s in states],
        "next_cursor": cursor,
    }


@app.route("/pricing/prices/{sku}", methods=["GET"])
def get_price(sku: str) -> dict[str, Any]:
    return _catalog().get(_sku(sku)).public()


@app.route("/pricing/skus/{sku}", methods=["PUT"])
def put_sku(sku: str) -> dict[str, Any]:
    require_admin(app.request())
    return _catalog().configure(_sku(sku), parse_body(app.request(), SkuSettings)).public()

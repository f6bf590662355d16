"""Pricing HTTP API (API Gateway -> Chalice): the catalog's SKUs and prices, decision history, quotes,
tick statuses, and the admin routes (SKU settings, reprice now)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api, json_response, parse_body, require_admin
from commerce_ai.pricing import service
from commerce_ai.pricing.catalog import SkuSettings
from commerce_ai.pricing.observations import SKU_ID
from commerce_ai.pricing.quotes import QuoteRequest, quote
from commerce_ai.pricing.tick_log import is_tick_name
from commerce_ai.pricing.ticks import tick_stamp

app = json_api("pricing")
MAX_REPRICE_SKUS = 1000
MAX_RETURNED_DECISIONS = 1000


class RepriceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skus: list[str] | None = Field(default=None, min_length=1, max_length=MAX_REPRICE_SKUS)
    dry_run: StrictBool = False


def _sku(sku: str) -> str:
    if not re.fullmatch(SKU_ID, sku):
        raise InvalidInput(f"SKU {sku[:140]!r} is not valid (letters, digits and . _ : -, up to 128)")
    return sku


def _limit(query: dict[str, str], default: int) -> int:
    try:
        return int(query.get("limit", str(default)))
    except ValueError as exc:
        raise InvalidInput("limit must be an integer") from exc


@app.route("/pricing/skus", methods=["GET"])
def list_skus() -> dict[str, Any]:
    query: dict[str, str] = dict(app.request().query_params or {})
    states, cursor = service.catalog().page(_limit(query, 50), query.get("cursor"))
    return {
        "skus": [{"sku": s.sku, "price": s.price, "stage": s.stage.value} for s in states],
        "next_cursor": cursor,
    }


@app.route("/pricing/prices/{sku}", methods=["GET"])
def get_price(sku: str) -> dict[str, Any]:
    state = service.catalog().get(_sku(sku))
    last = service.decision_log().latest(sku)
    return {**state.public(), "last_decision": last.model_dump(exclude_none=True) if last else None}


@app.route("/pricing/prices/{sku}/history", methods=["GET"])
def price_history(sku: str) -> dict[str, Any]:
    query: dict[str, str] = dict(app.request().query_params or {})
    service.catalog().get(_sku(sku))  # 404 for an unknown SKU rather than an empty history
    records, cursor = service.decision_log().history(sku, _limit(query, 20), query.get("cursor"))
    return {"sku": sku, "decisions": [r.model_dump(exclude_none=True) for r in records], "next_cursor": cursor}


@app.route("/pricing/quote", methods=["POST"])
def post_quote() -> dict[str, Any]:
    request = parse_body(app.request(), QuoteRequest)
    model = service.demand_model()
    members = model.model.table.market_members(request.sku)
    state, catalog_prices = service.catalog().get_with_market(request.sku, members)
    return {
        "sku": request.sku,
        "current_price": state.price,
        "cost": state.cost,
        "period": "week",
        "model_version": model.version,
        "quotes": quote(state, model.model, request.prices, datetime.now(UTC), catalog_prices=catalog_prices),
    }


@app.route("/pricing/skus/{sku}", methods=["PUT"])
def put_sku(sku: str) -> dict[str, Any]:
    require_admin(app.request())
    return service.catalog().configure(_sku(sku), parse_body(app.request(), SkuSettings)).public()


@app.route("/pricing/reprice", methods=["POST"])
def post_reprice() -> Any:
    """Run a tick now for the given SKUs, or (no `skus`) queue one for the whole catalog: 202 with the
    tick's name, whose outcome `GET /pricing/ticks/{tick}` shows. `dry_run` decides without writing
    anything, and always answers at once (it writes nothing, so there is nothing to wait for)."""
    require_admin(app.request())
    request = parse_body(app.request(), RepriceRequest) if app.request().raw_body else RepriceRequest()
    skus = [_sku(s) for s in request.skus] if request.skus is not None else None
    now = datetime.now(UTC)
    if skus is None and not request.dry_run:
        queued = service.request_reprice(now)
        status_url = f"/pricing/ticks/{queued.tick}"
        return json_response(202, {**queued.model_dump(mode="json", exclude_none=True), "status_url": status_url})
    report = service.reprice_now(now, tick_stamp(now), skus=skus, dry_run=request.dry_run)
    decisions = [r.model_dump(exclude_none=True) for r in report.records[:MAX_RETURNED_DECISIONS]]
    truncated = len(report.records) > len(decisions)
    summary = {**report.summary(), "unknown_skus": report.unknown}
    return {**summary, "decisions": decisions, "decisions_truncated": truncated}


@app.route("/pricing/ticks", methods=["GET"])
def list_ticks() -> dict[str, Any]:
    query: dict[str, str] = dict(app.request().query_params or {})
    statuses, cursor = service.tick_log().recent(_limit(query, 20), query.get("cursor"))
    now = datetime.now(UTC)
    ticks = [s.as_of(now).model_dump(mode="json", exclude_none=True) for s in statuses]
    return {"ticks": ticks, "next_cursor": cursor}


@app.route("/pricing/ticks/{tick}", methods=["GET"])
def get_tick(tick: str) -> dict[str, Any]:
    if not is_tick_name(tick):
        raise InvalidInput("a tick is named by its UTC time to the millisecond, like 2026-11-28T12:15:00.000Z")
    return service.tick_log().get(tick).as_of(datetime.now(UTC)).model_dump(mode="json", exclude_none=True)

"""Pricing HTTP API (API Gateway -> Chalice): the catalog's SKUs and prices, decision history, quotes and
tick statuses, read by shoppers (a SKU's price) and operators. The admin routes that change prices (SKU
settings, reprice now) are `admin.py`'s, a function of its own whose role may write them (README, "Least
privilege"); this one may not."""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api
from commerce_ai.paging import Page
from commerce_ai.pricing import service
from commerce_ai.pricing.contract import (
    CompetitorPrices,
    Decision,
    DecisionHistory,
    HistoryQuery,
    PriceView,
    QuoteResponse,
    ShopperPrice,
    SkuPath,
    SkusQuery,
    SkuSummary,
    StageMember,
    StagePath,
    TickPath,
    TicksQuery,
    TickView,
)
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.quotes import QuoteRequest
from commerce_ai.pricing.tick_log import is_tick_name

app = json_api("pricing")


@app.route("/pricing/skus", methods=["GET"], query=SkusQuery, response=Page[SkuSummary])
def list_skus(query: SkusQuery) -> Page[SkuSummary]:
    """The catalog's SKUs with their current price and stage, paged."""
    states, cursor = service.catalog().page(query.limit, query.cursor)
    items = [SkuSummary(sku=s.sku, price=s.price, stage=s.stage) for s in states]
    return Page[SkuSummary](items=items, next_cursor=cursor)


@app.route(
    "/pricing/stages/{stage}/skus",
    path_params=StagePath,
    methods=["GET"],
    query=SkusQuery,
    response=Page[StageMember],
    admin=True,
)
def skus_in_stage(stage: str, query: SkusQuery) -> Page[StageMember]:
    """The SKUs in a lifecycle stage (e.g. every clearance SKU), paged: one query of the stage index (admin)."""
    try:
        wanted = Stage(stage)
    except ValueError:
        raise InvalidInput(f"stage {stage[:40]!r} is not one of {', '.join(s.value for s in Stage)}") from None
    names, cursor = service.catalog().in_stage(wanted, query.limit, query.cursor)
    return Page[StageMember](items=[StageMember(sku=name) for name in names], next_cursor=cursor)


@app.route("/pricing/prices/{sku}", path_params=SkuPath, methods=["GET"], response=ShopperPrice, errors=(404,))
def get_price(sku: str) -> ShopperPrice:
    """A SKU's current price, as a shopper may see it (public: no cost, bounds, inventory or decisions)."""
    state = service.catalog().get(sku)
    public = state.public()
    return ShopperPrice(sku=state.sku, price=public["price"], updated_at=public["updated_at"] or None)


@app.route(
    "/pricing/prices/{sku}/history",
    path_params=SkuPath,
    methods=["GET"],
    query=HistoryQuery,
    response=DecisionHistory,
    errors=(404,),
)
def price_history(sku: str, query: HistoryQuery) -> DecisionHistory:
    """A SKU's recent changes, blocks and failures, newest first, paged; and where the full decision log is."""
    records, cursor = service.price_history(sku, query.limit, query.cursor)
    return DecisionHistory(
        sku=sku,
        items=[Decision.model_validate(r.model_dump()) for r in records],
        next_cursor=cursor,
        full_log=service.decision_archive().location(),
    )


@app.route("/pricing/quote", methods=["POST"], request=QuoteRequest, response=QuoteResponse, errors=(404, 503))
def post_quote(body: QuoteRequest) -> QuoteResponse:
    """Expected weekly units, revenue and profit at candidate prices, and what the guard rails would do."""
    return QuoteResponse.model_validate(service.quote_prices(body, datetime.now(UTC)))


@app.route("/pricing/skus/{sku}", path_params=SkuPath, methods=["GET"], response=PriceView, admin=True, errors=(404,))
def get_sku(sku: str) -> PriceView:
    """A SKU's settings, as `PUT` writes them, with cost, bounds, inventory and its newest decision (operator)."""
    return PriceView.model_validate(service.price_view(sku))


@app.route(
    "/pricing/skus/{sku}/competitors", path_params=SkuPath, methods=["GET"], response=CompetitorPrices, errors=(404,)
)
def get_competitor_prices(sku: str) -> CompetitorPrices:
    """Each competitor's latest price for a SKU and the competitor index they make."""
    return CompetitorPrices.model_validate(service.competitor_prices(sku, datetime.now(UTC)))


@app.route("/pricing/ticks", methods=["GET"], query=TicksQuery, response=Page[TickView])
def list_ticks(query: TicksQuery) -> Page[TickView]:
    """Tick statuses, newest first, paged."""
    statuses, cursor = service.tick_log().recent(query.limit, query.cursor)
    now = datetime.now(UTC)
    items = [TickView.model_validate(s.as_of(now).view()) for s in statuses]
    return Page[TickView](items=items, next_cursor=cursor)


@app.route("/pricing/ticks/{tick}", path_params=TickPath, methods=["GET"], response=TickView, errors=(404,))
def get_tick(tick: str) -> TickView:
    """One tick's status."""
    if not is_tick_name(tick):
        raise InvalidInput("a tick is named by its UTC time to the millisecond, like 2026-11-28T12:15:00.000Z")
    return TickView.model_validate(service.tick_log().get(tick).as_of(datetime.now(UTC)).view())

"""Pricing HTTP API (API Gateway -> Chalice), admin: SKU settings and reprice now, the routes that change
prices. A function of its own (PricingAdminFunction), so that the public and operator reads (`app.py`) run
with a role that can neither write the catalog and the decision audit nor publish price changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Response

from commerce_ai.http import json_api, json_response
from commerce_ai.pricing import service
from commerce_ai.pricing.catalog import SkuSettings
from commerce_ai.pricing.contract import (
    MAX_RETURNED_DECISIONS,
    QueuedReprice,
    RepriceNowRequest,
    RepriceReport,
    SkuPath,
    SkuRemoved,
    SkuView,
)
from commerce_ai.pricing.observations import checked_sku
from commerce_ai.pricing.ticks import tick_stamp

app = json_api("pricing-admin")


@app.route(
    "/pricing/skus/{sku}",
    path_params=SkuPath,
    methods=["PUT"],
    request=SkuSettings,
    response=SkuView,
    admin=True,
    errors=(404,),
)
def put_sku(sku: str, body: SkuSettings) -> SkuView:
    """Set a SKU's price, cost, stage and bounds; creates the SKU when price and cost are given."""
    return SkuView.model_validate(service.configure_sku(sku, body, datetime.now(UTC)).public())


@app.route(
    "/pricing/skus/{sku}", path_params=SkuPath, methods=["DELETE"], response=SkuRemoved, admin=True, errors=(404,)
)
def delete_sku(sku: str) -> SkuRemoved:
    """Take a SKU out of the catalog: ticks stop pricing it (admin)."""
    service.catalog().remove(sku)
    return SkuRemoved(sku=sku, removed=True)


@app.route(
    "/pricing/reprice",
    methods=["POST"],
    request=RepriceNowRequest,
    request_required=False,
    response=RepriceReport,
    responses={202: QueuedReprice},
    admin=True,
    errors=(409, 503),
)
def post_reprice(body: RepriceNowRequest) -> RepriceReport | Response:
    """Reprice now: the given SKUs at once, or (no `skus`) the whole catalog queued.

    With `skus` or `dry_run` a tick runs now and its report is the answer. Without `skus` the whole
    catalog is queued for RepricingFunction (it can outlast API Gateway's 29 s): 202 with the tick's name,
    whose outcome `GET /pricing/ticks/{tick}` shows. A dry run decides without writing anything. With an
    `idempotency_key`, a retry of the same request gets the first answer and a different one a 409."""
    skus = [checked_sku(s) for s in body.skus] if body.skus is not None else None
    now = datetime.now(UTC)
    status, answer = service.reprice_once(body.idempotency_key, body, now, lambda: _reprice(body, skus, now))
    return json_response(202, answer) if status == 202 else RepriceReport.model_validate(answer)


def _reprice(body: RepriceNowRequest, skus: list[str] | None, now: datetime) -> tuple[int, dict[str, Any]]:
    """The reprice's answer: its HTTP status and body."""
    if skus is None and not body.dry_run:
        queued = service.request_reprice(now)
        answer = {**queued.view(), "status_url": f"/pricing/ticks/{queued.tick}"}
        return 202, QueuedReprice.model_validate(answer).model_dump(mode="json")
    report = service.reprice_now(now, tick_stamp(now), skus=skus, dry_run=body.dry_run)
    decisions = [r.model_dump() for r in report.records[:MAX_RETURNED_DECISIONS]]
    answer = {
        **report.summary(),
        "unknown_skus": report.unknown,
        "decisions": decisions,
        "decisions_truncated": len(report.records) > len(decisions),
    }
    return 200, RepriceReport.model_validate(answer).model_dump(mode="json")

"""Forecasting HTTP API (API Gateway -> Chalice), admin: a SKU's inventory settings. A function of its own
(ForecastingAdminFunction), so that the operators' forecast and inventory reads (`app.py`) run with a role
that cannot write the forecasting table."""

from __future__ import annotations

from commerce_ai.forecasting import service
from commerce_ai.forecasting.contract import InventoryChange, InventoryView, SkuPath
from commerce_ai.forecasting.records import InventorySettings
from commerce_ai.http import json_api

app = json_api("forecasting-admin")


@app.route(
    "/inventory/{sku}",
    path_params=SkuPath,
    methods=["PUT"],
    admin=True,
    request=InventoryChange,
    response=InventoryView,
)
def put_inventory(sku: str, body: InventoryChange) -> InventoryView:
    """Set a SKU's inventory: on hand, lead time and review period (forecast periods), service level, costs."""
    stored = service.put_inventory(sku, InventorySettings.model_validate(body.model_dump()))
    return InventoryView.model_validate({"sku": sku, **stored.model_dump()})

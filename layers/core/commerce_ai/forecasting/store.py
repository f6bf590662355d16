"""The forecasting table adapter: one item per SKU and record kind (`history`, `forecast`, `inventory`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel

from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_get, batch_write
from commerce_ai.forecasting.records import InventorySettings, SalesHistory, StoredForecast

M = TypeVar("M", bound=BaseModel)
HISTORY, FORECAST, INVENTORY = "history", "forecast", "inventory"
BATCH_GET, BATCH_WRITE = 100, 25


class ForecastingStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @staticmethod
    def _key(sku: str, record: str) -> dict[str, Any]:
        return {"sku": {"S": sku}, "record": {"S": record}}

    def _item(self, sku: str, record: str, body: BaseModel) -> dict[str, Any]:
        return {**self._key(sku, record), "body": {"S": body.model_dump_json()}}

    def _get(self, sku: str, record: str, model: type[M]) -> M | None:
        item = self.ddb.get_item(TableName=self.table, Key=self._key(sku, record)).get("Item")
        return model.model_validate_json(item["body"]["S"]) if item else None

    def history(self, sku: str) -> SalesHistory | None:
        return self._get(sku, HISTORY, SalesHistory)

    def forecast(self, sku: str) -> StoredForecast | None:
        return self._get(sku, FORECAST, StoredForecast)

    def inventory(self, sku: str) -> InventorySettings | None:
        return self._get(sku, INVENTORY, InventorySettings)

    def put_inventory(self, sku: str, settings: InventorySettings) -> None:
        self.ddb.put_item(TableName=self.table, Item=self._item(sku, INVENTORY, settings))

    def _many(self, skus: Iterable[str], record: str, model: type[M]) -> dict[str, M]:
        """`record` of each SKU that has one (BatchGetItem, 100 keys a call), by SKU."""
        wanted = list(dict.fromkeys(skus))
        found: dict[str, M] = {}
        for i in range(0, len(wanted), BATCH_GET):
            keys = [self._key(s, record) for s in wanted[i : i + BATCH_GET]]
            for responses in batch_get(self.ddb, {self.table: {"Keys": keys}}):
                for item in responses.get(self.table, []):
                    found[item["sku"]["S"]] = model.model_validate_json(item["body"]["S"])
        return found

    def histories(self, skus: Iterable[str]) -> dict[str, SalesHistory]:
        return self._many(skus, HISTORY, SalesHistory)

    def forecasts(self, skus: Iterable[str]) -> dict[str, StoredForecast]:
        return self._many(skus, FORECAST, StoredForecast)

    def inventories(self, skus: Iterable[str]) -> dict[str, InventorySettings]:
        return self._many(skus, INVENTORY, InventorySettings)

    def put_many(self, records: Iterable[tuple[str, str, BaseModel]]) -> int:
        """Put (sku, record kind, body) items in batches of 25; returns how many."""
        items = [self._item(sku, kind, body) for sku, kind, body in records]
        for i in range(0, len(items), BATCH_WRITE):
            batch_write(self.ddb, {self.table: [{"PutRequest": {"Item": it}} for it in items[i : i + BATCH_WRITE]]})
        return len(items)

    def skus_with(self, record: str) -> list[str]:
        """Every SKU that has a `record` item (a filtered Scan: the daily run and the seed). A Scan reads, and
        bills, every item whatever the filter; at 100,000 SKUs a sparse index of histories would be cheaper."""
        skus: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "#r = :r",
            "ExpressionAttributeNames": {"#r": "record"},
            "ExpressionAttributeValues": {":r": {"S": record}},
        }
        while True:
            page = self.ddb.scan(**request)
            skus.extend(item["sku"]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(skus)
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

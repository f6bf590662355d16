"""DynamoDB adapter for the catalogue (`CATALOG_TABLE`, key `item_id`): one item per catalogue item.

Plain attributes, one per field (numbers as numbers, `attributes` as a map), so an operator can read and
correct an item in the console or with PartiQL, and an index can be added on any field later. Readers that
need many items at once (a recommendation list, a search result page) use `get_many`: one BatchGetItem per
100 ids, with DynamoDB's unprocessed keys resent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from commerce_ai import aws
from commerce_ai.api_fields import format_timestamp
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.settings import settings
from commerce_ai.dynamodb_batches import batch_get, batch_write
from commerce_ai.paging import decode_cursor, encode_cursor

BATCH_GET = 100  # DynamoDB's BatchGetItem limit
BATCH_WRITE = 25  # and BatchWriteItem's

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _decimals(value: Any) -> Any:
    """JSON values as DynamoDB's serializer takes them: floats as Decimals (it refuses floats)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_dynamodb(item: CatalogItem) -> dict[str, Any]:
    fields = {k: v for k, v in item.model_dump(mode="json").items() if v is not None}
    return {name: _serializer.serialize(_decimals(value)) for name, value in fields.items()}


def from_dynamodb(stored: dict[str, Any]) -> CatalogItem:
    return CatalogItem.model_validate({name: _plain(_deserializer.deserialize(v)) for name, v in stored.items()})


class Catalog:
    """The shop's catalogue table."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @classmethod
    def from_settings(cls) -> Catalog:
        return cls(settings().need("catalog_table"))

    def get(self, item_id: str) -> CatalogItem | None:
        stored = self.ddb.get_item(TableName=self.table, Key={"item_id": {"S": item_id}}).get("Item")
        return from_dynamodb(stored) if stored else None

    def get_many(self, item_ids: Iterable[str]) -> dict[str, CatalogItem]:
        """The catalogue's items among `item_ids`, by id; ids it does not hold are left out."""
        wanted = list(dict.fromkeys(item_ids))
        found: dict[str, CatalogItem] = {}
        for start in range(0, len(wanted), BATCH_GET):
            keys = [{"item_id": {"S": i}} for i in wanted[start : start + BATCH_GET]]
            for responses in batch_get(self.ddb, {self.table: {"Keys": keys}}):
                for stored in responses.get(self.table, []):
                    item = from_dynamodb(stored)
                    found[item.item_id] = item
        return found

    def put(self, item: CatalogItem) -> None:
        self.ddb.put_item(TableName=self.table, Item=to_dynamodb(item))

    def set_price(self, item_id: str, price: float, expected: float | None, updated_at: datetime) -> bool | None:
        """Set an item's price where it still holds `expected` (None: no price), or holds `price` already;
        True when it holds `price` now, False when its price is another, None when the catalogue has no such
        item. One conditional UpdateItem (a GetItem more when refused, to tell why)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"item_id": {"S": item_id}},
                UpdateExpression="SET #price = :price, #updated = :updated",
                ConditionExpression="attribute_exists(#id) AND ("
                + ("attribute_not_exists(#price)" if expected is None else "#price = :expected")
                + " OR #price = :price)",
                ExpressionAttributeNames={"#price": "price", "#updated": "updated_at", "#id": "item_id"},
                ExpressionAttributeValues={
                    ":price": _serializer.serialize(_decimals(price)),
                    ":updated": {"S": format_timestamp(updated_at)},
                    **({} if expected is None else {":expected": _serializer.serialize(_decimals(expected))}),
                },
            )
            return True
        except ClientError as error:
            if not aws.is_conditional_check_failure(error):
                raise
        found = self.get(item_id)
        return None if found is None else found.price == price

    def put_many(self, items: Iterable[CatalogItem]) -> int:
        """Write every item (25 a call); returns how many."""
        written = 0
        batch: list[dict[str, Any]] = []
        for item in items:
            batch.append({"PutRequest": {"Item": to_dynamodb(item)}})
            if len(batch) == BATCH_WRITE:
                batch_write(self.ddb, {self.table: batch})
                written, batch = written + len(batch), []
        if batch:
            batch_write(self.ddb, {self.table: batch})
            written += len(batch)
        return written

    def delete(self, item_id: str) -> bool:
        """Remove an item; False if the catalogue did not hold it."""
        old = self.ddb.delete_item(TableName=self.table, Key={"item_id": {"S": item_id}}, ReturnValues="ALL_OLD")
        return bool(old.get("Attributes"))

    def page(self, limit: int, cursor: str | None) -> tuple[list[CatalogItem], str | None]:
        """Up to `limit` items in the table's order and the cursor of the next page (None at the end)."""
        request: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        start = decode_cursor(cursor, {"item_id"})
        if start is not None:
            request["ExclusiveStartKey"] = start
        response = self.ddb.scan(**request)
        items = [from_dynamodb(stored) for stored in response.get("Items", [])]
        return items, encode_cursor(response.get("LastEvaluatedKey"))

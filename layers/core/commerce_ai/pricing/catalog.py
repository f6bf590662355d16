"""The pricing catalog: one item per SKU (`PRICING_CATALOG_TABLE`, key `sku`) with its current price,
cost, lifecycle stage and the bounds an admin sets. The repricing tick reads and writes it."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel, ConfigDict, Field, model_validator

from commerce_ai import aws
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.health import utc_now
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.observations import IDENTIFIER

MAX_PAGE = 200
_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


class SkuSettings(BaseModel):
    """What an admin may set on a SKU (`PUT /pricing/skus/{sku}`). `price` is needed to create one."""

    model_config = ConfigDict(extra="forbid")

    price: float | None = Field(default=None, gt=0, le=1_000_000)
    cost: float | None = Field(default=None, gt=0, le=1_000_000)
    stage: Stage | None = None
    floor: float | None = Field(default=None, gt=0)
    ceiling: float | None = Field(default=None, gt=0)
    clearance_end: datetime | None = None
    salvage_price: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _aware(self) -> SkuSettings:
        if self.clearance_end is not None and self.clearance_end.tzinfo is None:
            raise ValueError("clearance_end needs a timezone")
        return self


class SkuState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(pattern=IDENTIFIER)
    price: float
    cost: float
    stage: Stage = Stage.MATURE
    floor: float | None = None
    ceiling: float | None = None
    clearance_end: datetime | None = None
    salvage_price: float | None = None
    updated_at: str = ""

    def public(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _to_item(state: SkuState) -> dict[str, Any]:
    plain = json.loads(state.model_dump_json(exclude_none=True), parse_float=Decimal)
    return {k: _serializer.serialize(v) for k, v in plain.items()}


def _from_item(item: dict[str, Any]) -> SkuState:
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return SkuState.model_validate({k: float(v) if isinstance(v, Decimal) else v for k, v in plain.items()})


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(key, dict) and set(key) == {"sku"} and set(key["sku"]) == {"S"}):
            raise ValueError("not a catalog key")
        return key
    except (ValueError, TypeError) as exc:
        raise InvalidInput("cursor is not one this API returned") from exc


class CatalogStore:
    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def get(self, sku: str) -> SkuState:
        item = self.ddb.get_item(TableName=self.table, Key={"sku": {"S": sku}}, ConsistentRead=True).get("Item")
        if not item:
            raise NotFound(f"SKU {sku!r} is not in the pricing catalog")
        return _from_item(item)

    def put(self, state: SkuState) -> SkuState:
        stamped = state.model_copy(update={"updated_at": utc_now()})
        self.ddb.put_item(TableName=self.table, Item=_to_item(stamped))
        return stamped

    def configure(self, sku: str, settings: SkuSettings) -> SkuState:
        """Apply admin settings; a SKU that does not exist yet is created when a price and cost are given."""
        changes = settings.model_dump(exclude_none=True)
        try:
            merged = {**self.get(sku).model_dump(), **changes}
        except NotFound:
            if settings.price is None or settings.cost is None:
                raise NotFound(f"SKU {sku!r} is not in the pricing catalog; send price and cost to create it") from None
            merged = {"sku": sku, **changes}
        state = SkuState.model_validate(merged)
        if state.floor is not None and state.ceiling is not None and state.floor > state.ceiling:
            raise InvalidInput("floor must not be above ceiling")
        if state.stage is Stage.CLEARANCE and (state.clearance_end is None or state.salvage_price is None):
            raise InvalidInput("a clearance SKU needs clearance_end and salvage_price")
        return self.put(state)

    def page(self, limit: int, cursor: str | None) -> tuple[list[SkuState], str | None]:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        request: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        start = decode_cursor(cursor)
        if start:
            request["ExclusiveStartKey"] = start
        response = self.ddb.scan(**request)
        return [_from_item(i) for i in response.get("Items", [])], encode_cursor(response.get("LastEvaluatedKey"))

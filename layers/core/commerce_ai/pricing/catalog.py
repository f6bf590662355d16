"""The pricing catalog: one item per SKU (`PRICING_CATALOG_TABLE`, key `sku`) with its current price,
cost, lifecycle stage and the bounds an admin sets, plus what the repricing tick keeps (recent prices,
recent change times, the last tick that changed it) and the competitor index the competitor queue keeps.

The item has few attributes on purpose: the tick scans the whole catalog every 15 minutes, and both
DynamoDB's read cost (attribute names count toward item size) and the emulator's time grow with item size
and attribute count (moto serialises a scan page attribute by attribute). So each writer's fields are
packed into one attribute, and each writer changes only its own:

- `price` (number): a top-level number, because the tick's conditional write compares it.
- `settings` (JSON text): what an admin sets: cost, stage, floor, ceiling, clearance plan, launch price.
- `ticked` (text): `<last_tick>,<updated_at>,<history>,<changes>`, what the tick keeps. It starts with the
  last tick's name and `,` sorts below every character of a tick name, so `ticked < :tick` holds exactly
  when the last tick is older than `:tick` (or there was none): the tick's write condition.
- `competitor` (text): `<index>@<time>`, the competitor queue's index and the oldest observation in it.

Items in the earlier flat form (one attribute per field) are still read.
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from commerce_ai import aws
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.health import utc_now
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.observations import IDENTIFIER

MAX_PAGE = 200
HISTORY_LENGTH = 26  # applied prices kept per SKU for the anomaly guard
SCAN_SEGMENTS = 8
WRITE_THREADS = 16
_deserializer = TypeDeserializer()


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
    inventory: float | None = Field(default=None, ge=0)
    launch_price: float | None = Field(default=None, gt=0)

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
    inventory: float | None = None
    launch_price: float | None = None
    # Kept by the repricing tick: applied prices (oldest first), change times in the last day, the tick
    # that last changed the price (a retried tick skips the SKU), and the competitor queue's index.
    history: list[float] = Field(default_factory=list)
    changes: list[datetime] = Field(default_factory=list)
    last_tick: str | None = None
    competitor_index: float | None = None
    competitor_index_at: datetime | None = None
    updated_at: str = ""

    @field_validator("history", mode="before")
    @classmethod
    def _parse_history(cls, value: Any) -> Any:
        return [float(v) for v in value.split()] if isinstance(value, str) else value

    @field_validator("changes", mode="before")
    @classmethod
    def _parse_changes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [datetime.fromtimestamp(int(v), UTC) for v in value.split()]
        return value

    @field_serializer("history")
    def _compact_history(self, history: list[float]) -> str:
        return " ".join(repr(p) for p in history)

    @field_serializer("changes")
    def _compact_changes(self, changes: list[datetime]) -> str:
        return " ".join(str(int(t.timestamp())) for t in changes)

    def public(self) -> dict[str, Any]:
        shown = self.model_dump(mode="json", exclude_none=True, exclude={"history", "changes"})
        shown["recent_prices"] = self.history[-8:]
        return shown

    def after_change(self, price: float, at: datetime, tick: str) -> SkuState:
        """This state once the tick applied `price` at `at`."""
        day_ago = at - timedelta(days=1)
        return self.model_copy(
            update={
                "price": price,
                "history": [*self.history, price][-HISTORY_LENGTH:],
                "changes": [t for t in self.changes if t > day_ago] + [at],
                "last_tick": tick,
            }
        )


SETTINGS = "settings"
TICKED = "ticked"
COMPETITOR = "competitor"
SETTING_FIELDS = frozenset(
    {"cost", "stage", "floor", "ceiling", "clearance_end", "salvage_price", "inventory", "launch_price"}
)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ticked_text(state: SkuState) -> str:
    """The `ticked` attribute: last tick, updated_at, history and change times (see the module doc)."""
    dumped = state.model_dump(include={"history", "changes"})
    return f"{state.last_tick or ''},{state.updated_at},{dumped['history']},{dumped['changes']}"


def competitor_text(index: float, at: datetime) -> str:
    return f"{index!r}@{_utc_text(at)}"


def _to_item(state: SkuState) -> dict[str, Any]:
    settings = state.model_dump(mode="json", include=set(SETTING_FIELDS), exclude_none=True)
    item: dict[str, Any] = {
        "sku": {"S": state.sku},
        "price": {"N": repr(state.price)},
        SETTINGS: {"S": json.dumps(settings, separators=(",", ":"))},
    }
    if state.last_tick or state.updated_at or state.history or state.changes:
        item[TICKED] = {"S": ticked_text(state)}
    if state.competitor_index is not None and state.competitor_index_at is not None:
        item[COMPETITOR] = {"S": competitor_text(state.competitor_index, state.competitor_index_at)}
    return item


def _plain(value: dict[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        return float(value["N"])
    found = _deserializer.deserialize(value)
    return float(found) if isinstance(found, Decimal) else found


def _from_item(item: dict[str, Any]) -> SkuState:
    fields: dict[str, Any] = {}
    for name, value in item.items():
        if name == SETTINGS:
            fields.update(json.loads(value["S"]))
        elif name == TICKED:
            last_tick, updated_at, history, changes = value["S"].split(",")
            fields.update(history=history, changes=changes, last_tick=last_tick or None, updated_at=updated_at)
        elif name == COMPETITOR:
            index, at = value["S"].split("@")
            fields.update(competitor_index=index, competitor_index_at=at)
        else:  # sku, price, and the fields of an item in the earlier flat form
            fields[name] = _plain(value)
    return SkuState.model_validate(fields)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None, attributes: set[str] | None = None) -> dict[str, Any] | None:
    """The DynamoDB key behind a cursor this API returned; `attributes` are the key's string attributes."""
    if not cursor:
        return None
    names = attributes or {"sku"}
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (
            isinstance(key, dict)
            and set(key) == names
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        ):
            raise ValueError("not a key of this table")
        return key
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput("cursor is not one this API returned") from exc


class CatalogStore:
    ddb = aws.ClientAttribute("dynamodb")
    bulk = aws.ClientAttribute("dynamodb", bulk=True, injected="_ddb")  # the tick's scan and writes

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
        if state.stage is Stage.CLEARANCE and None in (state.clearance_end, state.salvage_price, state.inventory):
            raise InvalidInput("a clearance SKU needs clearance_end, salvage_price and inventory")
        if state.stage is Stage.NEW and state.launch_price is None:
            state = state.model_copy(update={"launch_price": state.price})
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

    # -- what the repricing tick and the competitor queue need ---------------------------------------

    def scan_all(self, segments: int = SCAN_SEGMENTS) -> Iterator[SkuState | str]:
        """Every SKU, read with a parallel scan. An item that does not parse yields its key instead, so
        one broken item is reported as that SKU's failure rather than stopping the tick."""

        def segment(number: int) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            request: dict[str, Any] = {"TableName": self.table, "Segment": number, "TotalSegments": segments}
            while True:
                response = self.bulk.scan(**request)
                items.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return items
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        with concurrent.futures.ThreadPoolExecutor(segments) as pool:
            for items in pool.map(segment, range(segments)):
                yield from _parsed(items)

    def get_many(self, skus: list[str]) -> Iterator[SkuState | str]:
        """The given SKUs (BatchGetItem, 100 at a time); a SKU that is not in the catalog is skipped."""
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), 100):
            keys: list[dict[str, Any]] = [{"sku": {"S": s}} for s in unique[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in range(10):
                response = self.ddb.batch_get_item(RequestItems=request)
                yield from _parsed(response.get("Responses", {}).get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off before asking for the rest
            else:
                raise RuntimeError("the catalog kept some keys unprocessed; try again")

    def apply(self, state: SkuState, price: float, at: datetime, tick: str) -> bool:
        """Apply a tick's price change. False when the SKU changed under us (an admin set a new price, or
        this tick already applied it on an earlier attempt): the change is then not applied again."""
        changed = state.after_change(price, at, tick).model_copy(update={"updated_at": utc_now()})
        try:
            self.bulk.update_item(
                TableName=self.table,
                Key={"sku": {"S": state.sku}},
                UpdateExpression=f"SET price = :price, {TICKED} = :ticked",
                ConditionExpression=f"price = :old AND (attribute_not_exists({TICKED}) OR {TICKED} < :tick)",
                ExpressionAttributeValues={
                    ":price": {"N": repr(price)},
                    ":old": {"N": repr(state.price)},
                    ":ticked": {"S": ticked_text(changed)},
                    ":tick": {"S": tick},
                },
            )
            return True
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise
            return False

    def apply_all(self, changes: list[tuple[SkuState, float]], at: datetime, tick: str) -> dict[str, bool]:
        """`apply` for many SKUs at once (conditional writes cannot be batched); sku -> applied."""
        if not changes:
            return {}
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(changes))) as pool:
            outcomes = pool.map(lambda change: self.apply(change[0], change[1], at, tick), changes)
            return {state.sku: applied for (state, _), applied in zip(changes, outcomes, strict=True)}

    def set_competitor_index(self, sku: str, index: float, at: datetime) -> bool:
        """Denormalise a SKU's competitor index onto its item, so the tick reads it with the scan instead
        of one query per SKU. False if the SKU is not in the catalog (competitors may watch any SKU)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key={"sku": {"S": sku}},
                UpdateExpression=f"SET {COMPETITOR} = :competitor",
                ConditionExpression="attribute_exists(sku)",
                ExpressionAttributeValues={":competitor": {"S": competitor_text(index, at)}},
            )
            return True
        except ClientError as exc:
            if not aws.is_conditional_check_failure(exc):
                raise
            return False

    def seed(self, states: list[SkuState]) -> int:
        """Add SKUs that are not in the catalog yet; existing ones (and an admin's changes) are left alone."""

        def add(state: SkuState) -> bool:
            try:
                stamped = state.model_copy(update={"updated_at": utc_now()})
                self.bulk.put_item(
                    TableName=self.table, Item=_to_item(stamped), ConditionExpression="attribute_not_exists(sku)"
                )
                return True
            except ClientError as exc:
                if not aws.is_conditional_check_failure(exc):
                    raise
                return False

        if not states:
            return 0
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(states))) as pool:
            return sum(pool.map(add, states))


def _parsed(items: list[dict[str, Any]]) -> Iterator[SkuState | str]:
    for item in items:
        try:
            yield _from_item(item)
        except (ValueError, TypeError, OverflowError):
            yield str(item.get("sku", {}).get("S", "?"))

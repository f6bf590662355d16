"""The pricing catalog: every SKU's current price, cost, lifecycle stage and the bounds an admin sets, what
the repricing tick keeps (recent prices, recent change times, the last tick that changed it and why) and
the competitor index the competitor queue keeps.

One item per SKU in `PRICING_CATALOG_TABLE` (key `sku`), its settings as plain attributes an operator can
read and correct in the console or with PartiQL, and a `revision` that every change of the SKU's price or
settings bumps. The secondary index `StageIndex` (key `stage`, then `sku`, keys only) answers "every SKU in
clearance" with one query (`CatalogStore.in_stage`), and lists every SKU for a tick's plan (`names`): every
write path stores a stage, and an item without one (only a hand edit can make it) reads as broken.

Who writes what, so that no write overwrites another's:
- the repricing tick: one UpdateItem per changed SKU, of the attributes it owns (price, recent prices and
  change times, last tick, and the change's own decision record in `recent_changes`), conditioned on the
  revision it read: an admin change in between makes it refuse (the tick records the SKU `superseded`); it
  never writes settings or the competitor index. The record rides on the update, so a change is one write
  unit (the item is kept within 1 KB) and is never applied without its record;
- an admin: a read, then an UpdateItem of the SKU's settings and price state, conditioned on the revision
  read (read again and decided again when a tick got there first); never the competitor index;
- the competitor queue: an UpdateItem of the competitor index and its time only, which leaves the
  revision alone (a new index does not make a tick's decision wrong): one write unit.
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    field_serializer,
    field_validator,
    model_validator,
)

from commerce_ai import aws
from commerce_ai.api_fields import RequestTime, storable_fields
from commerce_ai.clock import utc_now
from commerce_ai.dynamodb_batches import batch_get
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.paging import decode_cursor, encode_cursor
from commerce_ai.pricing.guardrails import GuardRailConfig, Positioning, SkuPricing, margin_floor
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.observations import SKU_ID
from commerce_ai.telemetry import logger

MAX_PAGE = 200
HISTORY_LENGTH = 26  # applied prices kept per SKU for the anomaly guard
SCAN_SEGMENTS = 8
WRITE_THREADS = 16  # the tick's conditional updates in flight (within aws.MAX_POOL_CONNECTIONS)
ADMIN_ATTEMPTS = 5  # re-reads of a SKU that ticks keep changing under an admin's update before giving up
STAGE_INDEX = "StageIndex"
# A write is billed by 1 KB of the whole item: a tick's change, its record riding on the item, costs one
# write unit while the item stays within this. The records kept in `recent_changes` are sized to it.
ITEM_BUDGET = 1024
MAX_RECENT_CHANGES = 8


class SkuSettings(BaseModel):
    """What an admin may set on a SKU (`PUT /pricing/skus/{sku}`). `price` is needed to create one. An
    optional setting sent as null is removed; price, cost and stage cannot be."""

    model_config = ConfigDict(extra="forbid")

    price: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    cost: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    stage: Stage | None = None
    floor: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    ceiling: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    clearance_end: RequestTime | None = None
    salvage_price: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    inventory: StrictFloat | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    launch_price: StrictFloat | None = Field(default=None, gt=0, le=1_000_000, allow_inf_nan=False)
    # Where the price sits against the competitor index (commerce_ai.pricing.guardrails.Positioning).
    position: Literal["at_most_above", "match", "beat"] | None = Field(
        default=None,
        description="Against the competitor index: at most `position_percent` above, match, or beat by it.",
    )
    position_percent: StrictFloat | None = Field(default=None, ge=0, le=50, allow_inf_nan=False)
    # An admin's price is a decision: audited, and pinned (ticks keep it) unless `pinned` is false.
    pinned: StrictBool | None = Field(default=None, description="Ticks keep the price while pinned.")
    pinned_until: RequestTime | None = Field(default=None, description="When the pin lapses; null: until unpinned.")
    note: str | None = Field(default=None, min_length=1, max_length=200, description="Why (kept in the audit).")

    _storable = storable_fields(
        "price", "cost", "floor", "ceiling", "salvage_price", "inventory", "launch_price", "position_percent"
    )

    @model_validator(mode="after")
    def _aware(self) -> SkuSettings:
        if self.pinned_until is not None and self.pinned_until.tzinfo is None:
            raise ValueError("pinned_until needs a timezone")
        if self.pinned_until is not None:
            try:
                self.pinned_until = self.pinned_until.astimezone(UTC)
            except OverflowError as exc:
                raise ValueError("pinned_until is out of range") from exc
        if self.clearance_end is not None and self.clearance_end.tzinfo is None:
            raise ValueError("clearance_end needs a timezone")
        if self.clearance_end is not None:
            try:  # stored and shown in UTC; year 1 at +01:00 has no UTC time (found by fuzzing)
                self.clearance_end = self.clearance_end.astimezone(UTC)
            except OverflowError as exc:
                raise ValueError("clearance_end is out of range") from exc
        return self


REQUIRED_SETTINGS = ("price", "cost", "stage")


def _check_priceable(state: SkuState, changed: set[str]) -> None:
    """Settings the guard rails could never price from are refused when set, not found out by every tick:
    bounds with no price between them, or a price set outside its bounds (the next tick would move it at
    once). A new cost, floor, ceiling or salvage price that leaves the current price outside is accepted:
    the next tick moves the price back inside as a bounds correction."""
    pricing = SkuPricing(
        sku=state.sku,
        current_price=state.price,
        cost=state.cost,
        stage=state.stage,
        floor=state.floor,
        ceiling=state.ceiling,
        salvage_price=state.salvage_price,
    )
    lowest = margin_floor(pricing, GuardRailConfig())
    what = "the salvage price" if state.stage is Stage.CLEARANCE and state.salvage_price else "the margin floor"
    if state.ceiling is not None and lowest > state.ceiling:
        raise InvalidInput(f"ceiling {state.ceiling:.2f} is below {what} {lowest:.2f}: no price could be set")
    if "price" not in changed:
        return
    if state.price < lowest:
        raise InvalidInput(f"price {state.price:.2f} is below {what} {lowest:.2f} (from cost, floor or salvage price)")
    if state.ceiling is not None and state.price > state.ceiling:
        raise InvalidInput(f"price {state.price:.2f} is above the ceiling {state.ceiling:.2f}")


class SkuState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sku: str = Field(pattern=SKU_ID)
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
    position: str | None = None
    position_percent: float | None = None
    # Set by an admin's price: ticks keep the price while pinned (until `pinned_until`, if set).
    pinned: bool | None = None  # stored only once an admin set it: most SKUs never are
    pinned_until: datetime | None = None
    # The tick's recent change records, newest first (decisions.fields_of: reason, rules, prices, versions),
    # written with the change itself: as many as keep the item within one write unit (see `after_change`).
    recent_changes: list[dict[str, Any]] = Field(default_factory=list)
    updated_at: str = ""
    revision: int = 0  # bumped by every change of price or settings; 0: not stored yet

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

    @field_validator("recent_changes", mode="before")
    @classmethod
    def _parse_recent_changes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else []
        return value

    @field_serializer("recent_changes")
    def _compact_recent_changes(self, records: list[dict[str, Any]]) -> str:
        return json.dumps(records, separators=(",", ":"), ensure_ascii=False) if records else ""

    @field_serializer("history")
    def _compact_history(self, history: list[float]) -> str:
        return " ".join(repr(p) for p in history)

    @field_serializer("changes")
    def _compact_changes(self, changes: list[datetime]) -> str:
        return " ".join(str(int(t.timestamp())) for t in changes)

    def public(self) -> dict[str, Any]:
        # Every field, unset ones as null: clients get one shape whatever the SKU has set.
        shown = self.model_dump(mode="json", exclude={"history", "changes", "revision", "recent_changes"})
        shown["recent_prices"] = self.history[-8:]
        shown["pinned"] = bool(self.pinned)
        return shown

    def positioning(self) -> Positioning | None:
        return Positioning(self.position, self.position_percent or 0.0) if self.position else None

    def pin_holds(self, now: datetime) -> bool:
        return bool(self.pinned) and (self.pinned_until is None or now < self.pinned_until)

    def after_change(self, price: float, at: datetime, tick: str, record: dict[str, Any] | None = None) -> SkuState:
        """This state once the tick applied `price` at `at`, with the change's `record` newest in
        `recent_changes`. The oldest records are dropped while the item would exceed one write unit
        (`ITEM_BUDGET`; the newest is always kept), so a change costs one write unit however many came before;
        every record stays in the tick's S3 log."""
        day_ago = at - timedelta(days=1)
        changed = self.model_copy(
            update={
                "price": price,
                "history": [*self.history, price][-HISTORY_LENGTH:],
                "changes": [t for t in self.changes if t > day_ago] + [at],
                "last_tick": tick,
                "recent_changes": ([record] if record else []) + self.recent_changes[: MAX_RECENT_CHANGES - 1],
            }
        )
        while len(changed.recent_changes) > 1 and item_size(to_item(changed)) > ITEM_BUDGET:
            changed = changed.model_copy(update={"recent_changes": changed.recent_changes[:-1]})
        return changed


# ------------------------------------------------------------------------------------------- items

KEY = "sku"
TICK_OWNED = ("price", "history", "changes", "last_tick", "recent_changes", "updated_at")
INDEX_OWNED = ("competitor_index", "competitor_index_at")
# What an admin's write stores: everything but the key, the revision (bumped) and the competitor index.
ADMIN_OWNED = tuple(name for name in SkuState.model_fields if name not in (KEY, "revision", *INDEX_OWNED))


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    return {"S": str(value)}


def _attributes(state: SkuState, names: Iterable[str]) -> dict[str, dict[str, Any] | None]:
    """The given attributes of `state` as DynamoDB values; an unset one maps to None (to remove)."""
    dumped = state.model_dump(mode="json", include=set(names))
    return {name: None if value is None or value == "" else _value(value) for name, value in dumped.items()}


def to_item(state: SkuState) -> dict[str, Any]:
    """The SKU's item as stored: every set attribute, plain."""
    fields = state.model_dump(mode="json", exclude_none=True)
    return {name: _value(value) for name, value in fields.items() if value != ""}


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "N":  # DynamoDB stores about one byte per two significant digits, plus one
        return len(inner.lstrip("-").replace(".", "").lstrip("0")) // 2 + 2
    return 1 if kind == "BOOL" else len(str(inner).encode())


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it (attribute names and values; writes by 1 KB of it)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = {}
    for name, value in item.items():
        ((kind, inner),) = value.items()
        plain[name] = float(inner) if kind == "N" else inner
    if "revision" in plain:
        plain["revision"] = int(plain["revision"])
    return plain


def from_item(item: dict[str, Any]) -> SkuState | str:
    """The SKU an item holds, or its name when the item does not parse (that SKU then fails alone). An item
    without a `stage` does not parse: every write path stores one, and only an item that has one is in
    `StageIndex`, which the tick's plan lists SKUs from (so a hand edit that removed it shows as broken)."""
    if "stage" not in item:
        name = item.get(KEY, {}).get("S")
        return name if isinstance(name, str) else "#unnamed"
    try:
        return SkuState.model_validate(_plain(item))
    except (ValueError, TypeError, OverflowError, KeyError):
        name = item.get(KEY, {}).get("S")
        return name if isinstance(name, str) else "#unnamed"


def _update(
    attributes: dict[str, dict[str, Any] | None], bump: bool
) -> tuple[str, dict[str, str], dict[str, dict[str, Any]]]:
    """An UpdateExpression setting the values given, removing those given as None, and (with `bump`)
    adding one to `revision`; with its names and values."""
    aliases: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    sets, removes = [], []
    for position, (name, value) in enumerate(sorted(attributes.items())):
        aliases[f"#a{position}"] = name
        if value is None:
            removes.append(f"#a{position}")
        else:
            values[f":v{position}"] = value
            sets.append(f"#a{position} = :v{position}")
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if bump:
        aliases["#revision"] = "revision"
        values[":one"] = {"N": "1"}
        clauses.append("ADD #revision :one")
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    return " ".join(clauses), aliases, values


def _revision_condition(revision: int, aliases: dict[str, str], values: dict[str, Any]) -> str:
    """The condition that the stored SKU is still at `revision` (0: stored without one)."""
    aliases["#sku"] = KEY
    aliases["#revision"] = "revision"
    if revision:
        values[":read"] = {"N": str(revision)}
        return "attribute_exists(#sku) AND #revision = :read"
    return "attribute_exists(#sku) AND attribute_not_exists(#revision)"


def _update_if(dynamodb: Any, **request: Any) -> bool:
    """UpdateItem with a ConditionExpression: True if written, False if the condition refused it."""
    try:
        dynamodb.update_item(**request)
        return True
    except ClientError as exc:
        if not aws.is_conditional_check_failure(exc):
            raise
        return False


@dataclass
class Applied:
    """What `CatalogStore.apply_all` did with a tick's changes."""

    applied: dict[str, bool] = field(default_factory=dict)  # sku -> applied; False: it changed under the tick
    unwritten: dict[str, Exception] = field(default_factory=dict)  # sku -> why its update could not be made
    # sku -> the SKU as an earlier attempt of this tick changed it (to another price), found when the read
    # was older than that change (an eventually consistent read): not applied again, not superseded.
    earlier: dict[str, SkuState] = field(default_factory=dict)


@dataclass
class CatalogRead:
    """SKUs' items as read for a tick: each parsed state carries the revision its update is conditioned on."""

    items: list[dict[str, Any]]
    wanted: list[str] | None = None  # None: every SKU

    def states(self) -> Iterator[SkuState | str]:
        """Every (wanted) SKU; a SKU whose item does not parse yields its name instead, so one broken item
        is reported as that SKU's failure rather than stopping the tick."""
        if self.wanted is None:
            for item in self.items:
                yield from_item(item)
            return
        by_name = {item[KEY]["S"]: item for item in self.items}
        for sku in dict.fromkeys(self.wanted):
            if sku in by_name:
                yield from_item(by_name[sku])


class CatalogStore:
    ddb = aws.ClientAttribute("dynamodb")
    bulk = aws.ClientAttribute("dynamodb", bulk=True, injected="_ddb")  # the tick's scan and writes

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    @staticmethod
    def _key(sku: str) -> dict[str, Any]:
        return {KEY: {"S": sku}}

    def _stored(self, sku: str, client: Any | None = None) -> dict[str, Any] | None:
        request = {"TableName": self.table, "Key": self._key(sku), "ConsistentRead": True}
        return (client or self.ddb).get_item(**request).get("Item") or None

    # -- single SKUs ----------------------------------------------------------------------------------

    def get(self, sku: str) -> SkuState:
        item = self._stored(sku)
        if item is None:
            raise NotFound(f"SKU {sku!r} is not in the pricing catalog")
        state = from_item(item)
        if isinstance(state, str):
            raise InvalidInput(f"SKU {sku!r} has a catalog item that does not parse; correct it or send it again")
        return state

    def get_with_market(self, sku: str, members: list[str]) -> tuple[SkuState, dict[str, float]]:
        """The SKU and the current prices of its market members, in one read."""
        found = {s.sku: s for s in self.read([sku, *members]).states() if isinstance(s, SkuState)}
        if sku not in found:
            return self.get(sku), {}  # NotFound, or the unreadable item's own error
        return found[sku], {name: state.price for name, state in found.items()}

    def put(self, state: SkuState) -> SkuState:
        """Store the SKU as given (setup and tools; admins go through `configure`), bumping its revision."""
        stamped = state.model_copy(update={"updated_at": utc_now()})
        expression, aliases, values = _update(_attributes(stamped, (*ADMIN_OWNED, *INDEX_OWNED)), bump=True)
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(state.sku),
            UpdateExpression=expression,
            ExpressionAttributeNames=aliases,
            ExpressionAttributeValues=values,
        )
        return stamped.model_copy(update={"revision": stamped.revision + 1})

    def configure(self, sku: str, settings: SkuSettings) -> SkuState:
        """Apply admin settings; a SKU that does not exist yet is created when a price and cost are given."""
        return self.configure_with_change(sku, settings)[0]

    def configure_with_change(
        self, sku: str, settings: SkuSettings, now: datetime | None = None
    ) -> tuple[SkuState, float | None]:
        """`configure`, returning also, when the admin changed an existing SKU's price, the price before: that change
        is recorded like a tick's (recent prices, the day's changes) and pins the price unless `pinned` is
        false, so the next tick keeps it instead of quietly reverting it. The write is conditioned on the
        revision read: a tick's change in between makes it read again and decide again."""
        now = now or datetime.now(UTC)
        changes = settings.model_dump(exclude_unset=True, exclude={"note"})
        if changes.get("pinned") is False:  # unpinned is the default: stored as absent
            changes["pinned"] = None
        required = [name for name in REQUIRED_SETTINGS if name in changes and changes[name] is None]
        if required:
            raise InvalidInput(f"{', '.join(required)} cannot be removed, only changed")
        for _ in range(ADMIN_ATTEMPTS):
            item = self._stored(sku)
            before = from_item(item) if item is not None else None
            if isinstance(before, str) and (settings.price is None or settings.cost is None):
                raise InvalidInput(f"SKU {sku!r} has a catalog item that does not parse; send price and cost")
            old_price: float | None = None
            if isinstance(before, SkuState):
                merged = {**before.model_dump(), **changes}
                if settings.price is not None and settings.price != before.price:
                    old_price = before.price
                    day_ago = now - timedelta(days=1)
                    merged["history"] = [*before.history, settings.price][-HISTORY_LENGTH:]
                    merged["changes"] = [t for t in before.changes if t > day_ago] + [now]
                    if "pinned" not in changes:
                        merged["pinned"] = True
            elif settings.price is None or settings.cost is None:
                raise NotFound(f"SKU {sku!r} is not in the pricing catalog; send price and cost to create it")
            else:
                merged = {"sku": sku, **changes}
            state = SkuState.model_validate(merged)
            if state.floor is not None and state.ceiling is not None and state.floor > state.ceiling:
                raise InvalidInput("floor must not be above ceiling")
            _check_priceable(state, set(changes))
            if state.stage is Stage.CLEARANCE and None in (state.clearance_end, state.salvage_price, state.inventory):
                raise InvalidInput("a clearance SKU needs clearance_end, salvage_price and inventory")
            if state.stage is Stage.NEW and state.launch_price is None:
                state = state.model_copy(update={"launch_price": state.price})
            state = state.model_copy(update={"updated_at": utc_now()})
            if self._write_settings(state, item):
                revision = state.revision + 1 if isinstance(before, SkuState) else 1
                return state.model_copy(update={"revision": revision}), old_price
        raise RuntimeError(f"SKU {sku!r} kept changing under {ADMIN_ATTEMPTS} attempts; try again")

    def _write_settings(self, state: SkuState, read: dict[str, Any] | None) -> bool:
        """Write an admin's view of the SKU (settings and price state, never the competitor index); False
        if the SKU changed since `read`, or was created meanwhile when `read` is None."""
        attributes = _attributes(state, ADMIN_OWNED)
        if read is None:
            attributes = {name: value for name, value in attributes.items() if value is not None}
        expression, aliases, values = _update(attributes, bump=True)
        if read is None:
            aliases["#sku"] = KEY
            condition = "attribute_not_exists(#sku)"
        else:
            stored = read.get("revision", {}).get("N")
            condition = _revision_condition(int(stored) if stored else 0, aliases, values)
        return _update_if(
            self.ddb,
            TableName=self.table,
            Key=self._key(state.sku),
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=aliases,
            ExpressionAttributeValues=values,
        )

    def remove(self, sku: str) -> SkuState | str:
        """Take the SKU out of the catalog (ticks stop pricing it); its decision history stays. Returns what
        it held (its name if the item did not parse); NotFound if it is not there."""
        request = {"TableName": self.table, "Key": self._key(sku), "ReturnValues": "ALL_OLD"}
        old = self.ddb.delete_item(**request).get("Attributes")
        if not old:
            raise NotFound(f"SKU {sku!r} is not in the pricing catalog")
        return from_item(old)

    def page(self, limit: int, cursor: str | None) -> tuple[list[SkuState], str | None]:
        """SKUs in the table's order, one Scan call a page; an item that does not parse is left out (ticks
        report it failed), so a page can be short and still have a next cursor."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        start = decode_cursor(cursor, {KEY})
        request: dict[str, Any] = {"TableName": self.table, "Limit": limit}
        if start:
            request["ExclusiveStartKey"] = start
        response = self.ddb.scan(**request)
        found = [s for s in map(from_item, response.get("Items", [])) if isinstance(s, SkuState)]
        return found, encode_cursor(response.get("LastEvaluatedKey"))

    def in_stage(self, stage: Stage, limit: int, cursor: str | None) -> tuple[list[str], str | None]:
        """Names of the SKUs in a lifecycle stage (the stage index), a page at a time."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": STAGE_INDEX,
            "KeyConditionExpression": "#stage = :stage",
            "ExpressionAttributeNames": {"#stage": "stage"},
            "ExpressionAttributeValues": {":stage": {"S": stage.value}},
            "Limit": limit,
        }
        start = decode_cursor(cursor, {KEY, "stage"})
        if start:
            request["ExclusiveStartKey"] = start
        response = self.ddb.query(**request)
        names = [item[KEY]["S"] for item in response.get("Items", [])]
        return names, encode_cursor(response.get("LastEvaluatedKey"))

    # -- what the repricing tick and the competitor queue need ---------------------------------------

    def read(
        self, skus: list[str] | None = None, segments: int = SCAN_SEGMENTS, consistent: bool = True
    ) -> CatalogRead:
        """The whole catalog (a parallel Scan) or the given SKUs (BatchGetItem, strongly consistent unless
        `consistent` is False: half the read units); a SKU that is not in the catalog is skipped."""
        items = self._scan(segments) if skus is None else list(self._get_items(set(skus), consistent))
        return CatalogRead(items, None if skus is None else list(skus))

    def names(self) -> list[str]:
        """Every SKU's name (a tick's plan): a Scan of the keys-only `StageIndex`, a page at a time. DynamoDB
        bills a Scan by the entries it reads: the index's are a SKU's name and stage (about 30 bytes), where
        the table's are whole items (about 0.8 KB, with or without a ProjectionExpression), so this reads
        about 1/25 of the units. Every stored SKU has a stage (`SkuState.stage` has a default, every write
        path stores it and none removes it), so the index holds every SKU. Eventually consistent, as any
        index read: a SKU added meanwhile waits for the next tick."""
        names: list[str] = []
        request: dict[str, Any] = {"TableName": self.table, "IndexName": STAGE_INDEX}
        while True:
            response = self.bulk.scan(**request)
            names.extend(item[KEY]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return names
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _scan(self, segments: int) -> list[dict[str, Any]]:
        """Eventually consistent (half the read units): a SKU read a moment stale has its update refused
        by the revision condition (superseded, decided again next tick), so the tick stays correct."""

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
            return [item for items in pool.map(segment, range(segments)) for item in items]

    def _get_items(self, skus: Iterable[str], consistent: bool = True) -> Iterator[dict[str, Any]]:
        """The given SKUs' items (BatchGetItem, 100 at a time; SKUs not stored are absent)."""
        ordered = sorted(skus)
        for start in range(0, len(ordered), 100):
            wanted: list[dict[str, Any]] = [self._key(s) for s in ordered[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": wanted, "ConsistentRead": consistent}}
            for responses in batch_get(self.ddb, request):
                yield from responses.get(self.table, [])

    def apply(self, state: SkuState, price: float, at: datetime, tick: str) -> bool:
        """Apply one tick's price change (see `apply_all`); raises if it could not be written."""
        result = self.apply_all([(state, price)], at, tick)
        if state.sku in result.unwritten:
            raise result.unwritten[state.sku]
        return result.applied.get(state.sku, False)

    def apply_all(
        self,
        changes: list[tuple[SkuState, float]],
        at: datetime,
        tick: str,
        read: CatalogRead | None = None,
        records: dict[str, dict[str, Any]] | None = None,
    ) -> Applied:
        """Apply a tick's price changes, each to the SKU as the tick read it: one UpdateItem per change, of
        the attributes the tick owns, conditioned on the revision read. A change is not applied when the
        SKU changed under the tick (an admin's price or setting, another tick) or when this tick applied
        it already on an earlier attempt. A change that cannot be written (throttled past the SDK's
        retries) leaves its SKU unchanged and `unwritten`; the others are still written. `read` is
        accepted for the tick's call shape; the revisions travel with the states."""
        stamp = utc_now()
        records = records or {}
        result = Applied()

        def one(change: tuple[SkuState, float]) -> tuple[str, bool | Exception | SkuState]:
            seen, price = change
            if seen.last_tick is not None and seen.last_tick >= tick:
                return seen.sku, seen.last_tick == tick and seen.price == price
            changed = seen.after_change(price, at, tick, records.get(seen.sku))
            changed = changed.model_copy(update={"updated_at": stamp})
            expression, aliases, values = _update(_attributes(changed, TICK_OWNED), bump=True)
            condition = _revision_condition(seen.revision, aliases, values)
            try:
                if _update_if(
                    self.bulk,
                    TableName=self.table,
                    Key=self._key(seen.sku),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=aliases,
                    ExpressionAttributeValues=values,
                ):
                    return seen.sku, True
                # Refused. Our own write, when its response was lost and the SDK's resend found it done:
                # applied. This tick's change at another price: an earlier attempt's, which a stale read
                # missed. Anything else changed the SKU while the tick ran: superseded.
                item = self._stored(seen.sku, self.bulk)
                current = from_item(item) if item is not None else None
                if isinstance(current, SkuState) and current.last_tick == tick:
                    return seen.sku, True if current.price == price else current
                return seen.sku, False
            except Exception as exc:
                logger.error("catalog update not written", extra={"sku": seen.sku, "error": type(exc).__name__})
                return seen.sku, exc

        if not changes:
            return result
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(changes))) as pool:
            for sku, outcome in pool.map(one, changes):
                if isinstance(outcome, Exception):
                    result.unwritten[sku] = outcome
                elif isinstance(outcome, SkuState):
                    result.earlier[sku] = outcome
                else:
                    result.applied[sku] = outcome
        return result

    def set_competitor_index(self, sku: str, index: float, at: datetime) -> bool:
        """Keep a SKU's competitor index with its state, so the tick reads it with the catalog instead of
        one query per SKU: one UpdateItem of those two attributes, which leaves the revision alone. False
        if the SKU is not in the catalog (competitors may watch any SKU)."""
        at_text = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return _update_if(
            self.ddb,
            TableName=self.table,
            Key=self._key(sku),
            UpdateExpression="SET #index = :index, #at = :at",
            ConditionExpression="attribute_exists(#sku)",
            ExpressionAttributeNames={"#index": "competitor_index", "#at": "competitor_index_at", "#sku": KEY},
            ExpressionAttributeValues={":index": {"N": repr(float(index))}, ":at": {"S": at_text}},
        )

    def seed(self, states: list[SkuState]) -> int:
        """Add SKUs that are not in the catalog yet (a conditional put each); existing ones (and an admin's
        changes) are left alone."""
        stamp = utc_now()

        def added(state: SkuState) -> int:
            item = to_item(state.model_copy(update={"updated_at": stamp, "revision": 1}))
            request = {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(#sku)",
                "ExpressionAttributeNames": {"#sku": KEY},
            }
            return int(aws.put_if(self.bulk, **request))

        if not states:
            return 0
        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(states))) as pool:
            return sum(pool.map(added, states))

"""The pricing catalog: every SKU's current price, cost, lifecycle stage and the bounds an admin sets, what
the repricing tick keeps (recent prices, recent change times, the last tick that changed it) and the
competitor index the competitor queue keeps.

SKUs are stored in shards: `SHARDS` items of `PRICING_CATALOG_TABLE` (key `shard`), a SKU in the shard its
name hashes to (CRC-32). A shard item holds its SKUs as one zlib-compressed JSON object (`skus`) and a
`revision` that every write bumps. Why not one item per SKU: the tick reads and prices the whole catalog
every 15 minutes, and per-item costs dominate at 100k SKUs. A parallel Scan of 100k small items, and one
conditional write per changed SKU, took minutes against the emulator (which serves a few hundred
conditional writes a second) and cost 100k read and write requests a tick on DynamoDB. Shards make it about
a thousand items read and at most a thousand written, each a few KB compressed.

Every write is a read-modify-write of one shard, conditioned on the revision it read: a concurrent writer
(an admin, the competitor queue, another tick) makes it re-read the shard and decide again, so no write
overwrites another's. The price of this: a write rewrites the whole shard (about 100 SKUs at 100k), so a
competitor observation costs a few write units instead of one. With 1024 shards a shard stays far below
DynamoDB's 400 KB item limit up to millions of SKUs.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

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
from commerce_ai.api_fields import RequestTime
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
SHARDS = 1024
SCAN_SEGMENTS = 8
WRITE_THREADS = 16
WRITE_ATTEMPTS = 25  # re-reads of a shard that other writers keep changing before giving up
SHARD_SCAN_PAGE = 16  # shards a catalog page reads per Scan call
MAX_SHARD_BYTES = 350_000  # below DynamoDB's 400 KB item limit, with room for the other attributes
BROKEN_SHARD_LABEL = "#shard-"  # a broken shard's failures are audited under this + its key: never a SKU name


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
    inventory: StrictFloat | None = Field(default=None, ge=0, allow_inf_nan=False)
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
        # Every field, unset ones as null: clients get one shape whatever the SKU has set.
        shown = self.model_dump(mode="json", exclude={"history", "changes"})
        shown["recent_prices"] = self.history[-8:]
        shown["pinned"] = bool(self.pinned)
        return shown

    def positioning(self) -> Positioning | None:
        return Positioning(self.position, self.position_percent or 0.0) if self.position else None

    def pin_holds(self, now: datetime) -> bool:
        return bool(self.pinned) and (self.pinned_until is None or now < self.pinned_until)

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


# ------------------------------------------------------------------------------------------ shards

Entries = dict[str, dict[str, Any]]  # sku -> its state as JSON, without the sku
T = TypeVar("T")


def shard_of(sku: str) -> str:
    return f"{zlib.crc32(sku.encode()) % SHARDS:04d}"


def _entry(state: SkuState) -> dict[str, Any]:
    return state.model_dump(mode="json", exclude_none=True, exclude={"sku"})


def _state(sku: str, entry: dict[str, Any]) -> SkuState:
    return SkuState.model_validate({**entry, "sku": sku})


@dataclass(frozen=True)
class Shard:
    key: str
    revision: int  # 0: not stored yet
    entries: Entries


@dataclass
class Applied:
    """What `CatalogStore.apply_all` did with a tick's changes."""

    applied: dict[str, bool] = field(default_factory=dict)  # sku -> applied; False: it changed under the tick
    unwritten: dict[str, Exception] = field(default_factory=dict)  # sku -> why its shard could not be written


class BrokenShard(RuntimeError):
    """A shard item whose SKUs cannot be decoded."""


def _decoded(item: dict[str, Any] | None, key: str) -> Shard:
    if not item:
        return Shard(key, 0, {})
    try:
        entries = json.loads(zlib.decompress(item["skus"]["B"]))
        if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
            raise ValueError("not an object of SKU entries")
        return Shard(key, int(item["revision"]["N"]), entries)
    except (KeyError, ValueError, TypeError, zlib.error) as exc:
        raise BrokenShard(f"catalog shard {key} is not readable") from exc


def _item(key: str, revision: int, entries: Entries) -> dict[str, Any]:
    packed = zlib.compress(json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode())
    return {
        "shard": {"S": key},
        "revision": {"N": str(revision)},
        "skus": {"B": packed},
        "sku_count": {"N": str(len(entries))},  # for a person looking at the table
    }


def _listable(item: dict[str, Any] | None, key: str) -> Shard:
    """A shard for listing: a broken one lists as empty (and is logged) rather than failing every page
    that reaches it; the tick reports it."""
    try:
        return _decoded(item, key)
    except BrokenShard:
        logger.error("catalog shard is not readable", extra={"shard": key})
        return Shard(key, 0, {})


@dataclass
class CatalogRead:
    """SKUs as read for a tick, with the shards they came from: the tick's writes start from these."""

    shards: dict[str, Shard]
    broken: list[str]  # shard keys that did not decode
    wanted: list[str] | None = None  # None: every SKU

    def states(self) -> Iterator[SkuState | str]:
        """Every (wanted) SKU; a SKU that does not parse yields its name instead, and a broken shard its
        label, so one broken entry is reported as that SKU's failure rather than stopping the tick."""
        if self.wanted is None:
            yield from (f"{BROKEN_SHARD_LABEL}{key}" for key in self.broken)
            for shard in self.shards.values():
                for sku, entry in shard.entries.items():
                    yield _parsed(sku, entry)
            return
        broken = set(self.broken)
        for sku in dict.fromkeys(self.wanted):
            key = shard_of(sku)
            if key in broken:
                yield sku
            elif key in self.shards and sku in self.shards[key].entries:
                yield _parsed(sku, self.shards[key].entries[sku])


def _as_decided(state: SkuState) -> dict[str, Any]:
    """What a tick's decision depends on: everything but the competitor index (which may move while the
    tick runs without making its decision wrong) and the write time."""
    return state.model_dump(exclude={"competitor_index", "competitor_index_at", "updated_at"})


def _parsed(sku: str, entry: dict[str, Any]) -> SkuState | str:
    try:
        return _state(sku, entry)
    except (ValueError, TypeError, OverflowError):
        return sku


class CatalogStore:
    ddb = aws.ClientAttribute("dynamodb")
    bulk = aws.ClientAttribute("dynamodb", bulk=True, injected="_ddb")  # the tick's scan and writes

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    # -- one shard ------------------------------------------------------------------------------------

    def _read(self, key: str, client: Any | None = None) -> Shard:
        request = {"TableName": self.table, "Key": {"shard": {"S": key}}, "ConsistentRead": True}
        return _decoded((client or self.ddb).get_item(**request).get("Item"), key)

    def _mutate(
        self, key: str, change: Callable[[Entries], T], known: Shard | None = None, client: Any | None = None
    ) -> T:
        """Apply `change` to the shard's entries and write them, conditioned on the revision read; if
        another writer got there first, read again and re-run `change` on what it wrote. `change` edits
        the dict it is given (replacing entries, never editing one in place) and may raise to write
        nothing; what it returns is returned."""
        client = client or self.ddb
        shard = known or self._read(key, client)
        for attempt in range(WRITE_ATTEMPTS):
            entries = dict(shard.entries)
            outcome = change(entries)
            if entries == shard.entries:
                return outcome
            condition = "attribute_not_exists(#shard)" if shard.revision == 0 else "#revision = :read"
            names = {"#shard": "shard"} if shard.revision == 0 else {"#revision": "revision"}
            item = _item(key, shard.revision + 1, entries)
            if len(item["skus"]["B"]) > MAX_SHARD_BYTES:
                raise RuntimeError(f"catalog shard {key} would exceed {MAX_SHARD_BYTES} bytes; raise SHARDS")
            request: dict[str, Any] = {
                "TableName": self.table,
                "Item": item,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
            }
            if shard.revision:
                request["ExpressionAttributeValues"] = {":read": {"N": str(shard.revision)}}
            if aws.put_if(client, **request):
                return outcome
            time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))  # others are writing it: spread out
            shard = self._read(key, client)
        raise RuntimeError(f"catalog shard {key} kept changing under {WRITE_ATTEMPTS} attempts; try again")

    def _mutate_many(
        self,
        groups: dict[str, T],
        change: Callable[[T, Entries], Any],
        read: CatalogRead | None = None,
        client: Any | None = None,
        unwritten: dict[str, Exception] | None = None,
    ) -> list[Any]:
        """`_mutate` for several shards at once, each with its own group of work. With `unwritten`, a shard
        that cannot be written (throttled past the SDK's retries, kept changing, too big) is put there with
        its error, and the others are still written; without it, the first such error is raised."""
        if not groups:
            return []

        def one(key: str) -> Any:
            known = read.shards.get(key, Shard(key, 0, {})) if read is not None and key not in read.broken else None
            try:
                return self._mutate(key, lambda entries: change(groups[key], entries), known, client)
            except Exception as exc:
                if unwritten is None:
                    raise
                logger.error("catalog shard not written", extra={"shard": key, "error": type(exc).__name__})
                unwritten[key] = exc
                return None

        with concurrent.futures.ThreadPoolExecutor(min(WRITE_THREADS, len(groups))) as pool:
            return [outcome for outcome in pool.map(one, groups) if outcome is not None]

    # -- single SKUs ----------------------------------------------------------------------------------

    def get(self, sku: str) -> SkuState:
        entry = self._read(shard_of(sku)).entries.get(sku)
        if entry is None:
            raise NotFound(f"SKU {sku!r} is not in the pricing catalog")
        return _state(sku, entry)

    def get_with_market(self, sku: str, members: list[str]) -> tuple[SkuState, dict[str, float]]:
        """The SKU and the current prices of its market members, in one read."""
        found = {s.sku: s for s in self.read([sku, *members]).states() if isinstance(s, SkuState)}
        if sku not in found:
            return self.get(sku), {}  # NotFound, or the unreadable entry's own error
        return found[sku], {name: state.price for name, state in found.items()}

    def put(self, state: SkuState) -> SkuState:
        stamped = state.model_copy(update={"updated_at": utc_now()})

        def store(entries: Entries) -> None:
            entries[state.sku] = _entry(stamped)

        self._mutate(shard_of(state.sku), store)
        return stamped

    def configure(self, sku: str, settings: SkuSettings) -> SkuState:
        """Apply admin settings; a SKU that does not exist yet is created when a price and cost are given."""
        return self.configure_with_change(sku, settings)[0]

    def configure_with_change(
        self, sku: str, settings: SkuSettings, now: datetime | None = None
    ) -> tuple[SkuState, float | None]:
        """`configure`, returning also, when the admin changed an existing SKU's price, the price before: that change
        is recorded like a tick's (recent prices, the day's changes) and pins the price unless `pinned` is
        false, so the next tick keeps it instead of quietly reverting it."""
        now = now or datetime.now(UTC)
        changes = settings.model_dump(exclude_unset=True, exclude={"note"})
        if changes.get("pinned") is False:  # unpinned is the default: stored as absent
            changes["pinned"] = None
        old_price: list[float] = []
        required = [name for name in REQUIRED_SETTINGS if name in changes and changes[name] is None]
        if required:
            raise InvalidInput(f"{', '.join(required)} cannot be removed, only changed")

        def configured(entries: Entries) -> SkuState:
            if sku in entries:
                before = _state(sku, entries[sku])
                merged = {**before.model_dump(), **changes}
                if settings.price is not None and settings.price != before.price:
                    old_price.append(before.price)
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
            entries[sku] = _entry(state)
            return state

        state = self._mutate(shard_of(sku), configured)
        return state, (old_price[-1] if old_price else None)

    def remove(self, sku: str) -> SkuState:
        """Take the SKU out of the catalog (ticks stop pricing it); its decision history stays until it
        expires. NotFound if it is not there."""

        def removed(entries: Entries) -> SkuState:
            if sku not in entries:
                raise NotFound(f"SKU {sku!r} is not in the pricing catalog")
            return _state(sku, entries.pop(sku))

        return self._mutate(shard_of(sku), removed)

    def page(self, limit: int, cursor: str | None) -> tuple[list[SkuState], str | None]:
        """SKUs shard by shard (a shard's SKUs in name order); the cursor is the shard and SKU reached."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        start = decode_cursor(cursor, {"shard", "after"})
        if start and not (re.fullmatch(r"[0-9]{4}", start["shard"]["S"]) and int(start["shard"]["S"]) < SHARDS):
            raise InvalidInput("cursor is not one this API returned")
        found: list[SkuState] = []
        pending: list[Shard] = []
        after: str | None = None
        request: dict[str, Any] = {"TableName": self.table, "Limit": SHARD_SCAN_PAGE}
        if start:
            key = start["shard"]["S"]
            item = self.ddb.get_item(TableName=self.table, Key={"shard": {"S": key}}, ConsistentRead=True).get("Item")
            pending.append(_listable(item, key))
            after = start["after"]["S"]
            request["ExclusiveStartKey"] = {"shard": start["shard"]}
        more_shards = True
        while True:
            for shard in pending:
                names = sorted(s for s in shard.entries if after is None or s > after)
                after = None
                for position, sku in enumerate(names):
                    state = _parsed(sku, shard.entries[sku])
                    if isinstance(state, SkuState):  # an unreadable entry is left out; ticks report it failed
                        found.append(state)
                    if len(found) == limit:
                        more = position + 1 < len(names) or shard is not pending[-1] or more_shards
                        reached = {"shard": {"S": shard.key}, "after": {"S": sku}}
                        return found, encode_cursor(reached) if more else None
            if not more_shards:
                return found, None
            response = self.ddb.scan(**request)
            pending = [_listable(item, item["shard"]["S"]) for item in response.get("Items", [])]
            more_shards = "LastEvaluatedKey" in response
            if more_shards:
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- what the repricing tick and the competitor queue need ---------------------------------------

    def read(self, skus: list[str] | None = None, segments: int = SCAN_SEGMENTS) -> CatalogRead:
        """The whole catalog (a parallel Scan of the shards) or the shards of the given SKUs (BatchGetItem);
        a SKU that is not in the catalog is skipped."""
        items = self._scan(segments) if skus is None else self._get_shards({shard_of(s) for s in skus})
        shards: dict[str, Shard] = {}
        broken: list[str] = []
        for item in items:
            key = item["shard"]["S"]
            try:
                shards[key] = _decoded(item, key)
            except BrokenShard:
                broken.append(key)
        return CatalogRead(shards, sorted(broken), None if skus is None else list(skus))

    def _scan(self, segments: int) -> list[dict[str, Any]]:
        def segment(number: int) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            request: dict[str, Any] = {
                "TableName": self.table,
                "Segment": number,
                "TotalSegments": segments,
                "ConsistentRead": True,
            }
            while True:
                response = self.bulk.scan(**request)
                items.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    return items
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

        with concurrent.futures.ThreadPoolExecutor(segments) as pool:
            return [item for items in pool.map(segment, range(segments)) for item in items]

    def _get_shards(self, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The given shards' items (BatchGetItem, 100 at a time; shards not stored yet are absent)."""
        ordered = sorted(keys)
        for start in range(0, len(ordered), 100):
            wanted: list[dict[str, Any]] = [{"shard": {"S": k}} for k in ordered[start : start + 100]]
            request: dict[str, Any] = {self.table: {"Keys": wanted, "ConsistentRead": True}}
            for responses in batch_get(self.ddb, request):
                yield from responses.get(self.table, [])

    def apply(self, state: SkuState, price: float, at: datetime, tick: str) -> bool:
        """Apply one tick's price change (see `apply_all`); raises if its shard cannot be written."""
        result = self.apply_all([(state, price)], at, tick)
        if state.sku in result.unwritten:
            raise result.unwritten[state.sku]
        return result.applied[state.sku]

    def apply_all(
        self, changes: list[tuple[SkuState, float]], at: datetime, tick: str, read: CatalogRead | None = None
    ) -> Applied:
        """Apply a tick's price changes, each to the SKU as the tick read it. A change is not applied when
        the SKU changed under the tick (an admin set a price, another tick changed it) or when this tick
        already applied it on an earlier attempt. Shards are written from `read` when given (the tick's
        own read), so an undisturbed shard costs one write and no extra read. A shard that cannot be
        written leaves its SKUs unchanged and `unwritten`; the other shards are still written."""
        stamp = utc_now()
        groups: dict[str, list[tuple[SkuState, float]]] = defaultdict(list)
        for change in changes:
            groups[shard_of(change[0].sku)].append(change)

        def applied(group: list[tuple[SkuState, float]], entries: Entries) -> dict[str, bool]:
            outcomes: dict[str, bool] = {}
            for seen, price in group:
                entry = entries.get(seen.sku)
                current = _parsed(seen.sku, entry) if entry is not None else None
                if not isinstance(current, SkuState):
                    outcomes[seen.sku] = False
                elif _as_decided(current) == _as_decided(seen) and (seen.last_tick is None or seen.last_tick < tick):
                    changed = current.after_change(price, at, tick).model_copy(update={"updated_at": stamp})
                    entries[seen.sku] = _entry(changed)
                    outcomes[seen.sku] = True
                else:
                    # Our own write, when its response was lost and the SDK's resend found it done: applied.
                    # Anything else changed the SKU while the tick ran: superseded.
                    outcomes[seen.sku] = current.last_tick == tick and current.price == price
            return outcomes

        result = Applied()
        failed_shards: dict[str, Exception] = {}
        for shard_outcomes in self._mutate_many(dict(groups), applied, read, self.bulk, failed_shards):
            result.applied.update(shard_outcomes)
        for key, error in failed_shards.items():
            result.unwritten.update((seen.sku, error) for seen, _ in groups[key])
        return result

    def set_competitor_index(self, sku: str, index: float, at: datetime) -> bool:
        """Keep a SKU's competitor index with its state, so the tick reads it with the catalog instead of
        one query per SKU. False if the SKU is not in the catalog (competitors may watch any SKU)."""

        def indexed(entries: Entries) -> bool:
            if sku not in entries:
                return False
            at_text = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
            entries[sku] = {**entries[sku], "competitor_index": index, "competitor_index_at": at_text}
            return True

        return self._mutate(shard_of(sku), indexed)

    def seed(self, states: list[SkuState]) -> int:
        """Add SKUs that are not in the catalog yet; existing ones (and an admin's changes) are left alone."""
        stamp = utc_now()
        groups: dict[str, list[SkuState]] = defaultdict(list)
        for state in states:
            groups[shard_of(state.sku)].append(state)

        def added(group: list[SkuState], entries: Entries) -> int:
            count = 0
            for state in group:
                if state.sku not in entries:
                    entries[state.sku] = _entry(state.model_copy(update={"updated_at": stamp}))
                    count += 1
            return count

        return sum(self._mutate_many(dict(groups), added, client=self.bulk))

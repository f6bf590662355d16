"""Pricing's HTTP contract: request and response bodies of the `/pricing` routes (README, "Pricing")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from commerce_ai.api_fields import Count, Money, Quantity, Timestamp
from commerce_ai.paging import Page, PageQuery
from commerce_ai.pricing.decisions import Outcome
from commerce_ai.pricing.lifecycle import Stage
from commerce_ai.pricing.observations import SKU_ID
from commerce_ai.pricing.tick_log import TICK_NAME, Source, State

MAX_REPRICE_SKUS = 1000
IDEMPOTENCY_KEY = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_RETURNED_DECISIONS = 1000
_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class SkuPath(BaseModel):
    sku: str = Field(pattern=SKU_ID, description="Letters, digits and . _ : -, up to 128, no `/`.")


class TickPath(BaseModel):
    tick: str = Field(pattern=TICK_NAME, description="The tick's UTC time to the millisecond.")


class StagePath(BaseModel):
    stage: Stage = Field(description="A lifecycle stage: `new`, `mature` or `clearance`.")


class StageMember(BaseModel):
    """A SKU in a lifecycle stage (from the stage index)."""

    model_config = _OUT

    sku: str


class SkusQuery(PageQuery):
    limit: int = Field(default=50, ge=1, le=200, description="SKUs per page.")


class HistoryQuery(PageQuery):
    limit: int = Field(default=20, ge=1, le=100, description="Decisions per page (a page may hold fewer).")


class TicksQuery(PageQuery):
    limit: int = Field(default=20, ge=1, le=100, description="Tick statuses per page.")


class RepriceNowRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skus: list[str] | None = Field(default=None, min_length=1, max_length=MAX_REPRICE_SKUS)
    dry_run: StrictBool = False
    idempotency_key: str | None = Field(
        default=None,
        pattern=IDEMPOTENCY_KEY,
        description="Optional, yours: a retry of the same request with it gets the first answer (for 24 h); "
        "a different request with it, a 409.",
    )


class SkuSummary(BaseModel):
    """A SKU in the catalog list."""

    model_config = _OUT

    sku: str
    price: Money
    stage: Stage


class SkuView(BaseModel):
    """A SKU's catalog entry; settings it does not have are null."""

    model_config = _OUT

    sku: str
    price: Money
    cost: Money
    stage: Stage
    floor: Money | None
    ceiling: Money | None
    clearance_end: Timestamp | None
    salvage_price: Money | None
    inventory: Quantity | None
    launch_price: Money | None
    last_tick: str | None
    competitor_index: Money | None
    competitor_index_at: Timestamp | None
    position: Literal["at_most_above", "match", "beat"] | None
    position_percent: float | None
    pinned: bool = Field(description="An admin's price that ticks keep (while `pinned_until` has not passed).")
    pinned_until: Timestamp | None
    updated_at: Timestamp | None
    recent_prices: list[Money] = Field(description="The last 8 applied prices (ticks' and admins'), oldest first.")

    @field_validator("updated_at", mode="before")
    @classmethod
    def _never_written(cls, value: Any) -> Any:
        return value or None


class Decision(BaseModel):
    """What one tick decided for one SKU, with the reason in full."""

    model_config = _OUT

    sku: str
    tick: str
    outcome: Outcome
    old_price: Money | None = None
    proposed: Money | None = None
    applied: Money | None = None
    rules: list[str]
    reason: str
    expected_weekly_units: Quantity | None = None
    model_version: str | None = None
    policy_version: str | None = None


class PriceView(SkuView):
    """A SKU's catalog entry and its newest decision (null before the first tick)."""

    last_decision: Decision | None


class ShopperPrice(BaseModel):
    """What a shopper may see of a SKU's price: the price itself, never its cost, bounds, stock or decisions
    (those are the operator's, `GET /pricing/skus/{sku}`)."""

    model_config = _OUT

    sku: str
    price: Money
    updated_at: Timestamp | None


class DecisionHistory(Page[Decision]):
    """A SKU's recent changes (those its catalog item keeps), its blocks and failures, newest first."""

    sku: str
    full_log: str = Field(
        description="Where every tick's whole decision log is, kept decisions and older changes included: gzip "
        "JSON lines in S3, one object per tick, partitioned by date (dt=YYYY-MM-DD), for Athena or pandas."
    )


class GuardVerdict(BaseModel):
    """What the guard rails would do if the policy proposed this price now."""

    model_config = _OUT

    verdict: Literal["allowed", "adjusted", "kept", "blocked"]
    applied: Money | None
    rules: list[str]
    reason: str


class PriceQuote(BaseModel):
    """Expected weekly units, revenue and profit at one candidate price."""

    model_config = _OUT

    price: Money
    units: Quantity | None = Field(description="null: no estimate (see `note`).")
    revenue: Money | None
    profit: Money | None
    extrapolated: bool | None
    note: str | None = Field(description="Why the estimate is rough or missing; null when the model knows the price.")
    guard: GuardVerdict


class QuoteResponse(BaseModel):
    """Candidate prices quoted with the served demand model."""

    model_config = _OUT

    sku: str
    current_price: Money
    cost: Money
    period: Literal["week"]
    model_version: str
    quotes: list[PriceQuote]


class TickSummary(BaseModel):
    """What a tick did: how many SKUs had each outcome."""

    model_config = _OUT

    tick: str
    dry_run: bool
    model_version: str | None
    policy_version: str | None
    skus: Count
    already_done: Count
    unknown: Count
    applied: Count
    kept: Count
    blocked: Count
    failed: Count
    superseded: Count


class RepriceReport(TickSummary):
    """A tick run now: its summary, the asked-for SKUs not in the catalog, and its decisions."""

    unknown_skus: list[str]
    decisions: list[Decision] = Field(description=f"At most {MAX_RETURNED_DECISIONS}.")
    decisions_truncated: bool


class TickView(BaseModel):
    """A tick's status."""

    model_config = _OUT

    tick: str
    state: State
    source: Source
    updated_at: Timestamp
    attempt: int | None = None
    summary: TickSummary | None = None
    error: str | None = None
    chunks: int | None = Field(default=None, description="A whole-catalog tick's chunks, once planned.")
    chunks_done: int | None = Field(default=None, description="Its chunks decided and written so far.")
    chunks_failed: int | None = Field(default=None, description="Its chunks that failed every attempt (in the DLQ).")


class QueuedReprice(TickView):
    """A whole-catalog tick queued for RepricingFunction; `status_url` shows how it went."""

    status_url: str


class SkuRemoved(BaseModel):
    """The SKU is out of the catalog; its decision history stays until it expires."""

    model_config = _OUT

    sku: str
    removed: bool


class CompetitorQuote(BaseModel):
    """A competitor's latest observed price for the SKU."""

    model_config = _OUT

    competitor: str
    price: Money
    observed_at: Timestamp
    counted: bool = Field(description="Whether it counts in the competitor index now (fresh, among the top).")


class CompetitorPrices(BaseModel):
    """Each competitor's latest price for a SKU, newest first, and the competitor index they make."""

    model_config = _OUT

    sku: str
    competitor_index: Money | None
    competitors: list[CompetitorQuote]

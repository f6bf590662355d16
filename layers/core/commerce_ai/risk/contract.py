"""Risk's HTTP contract: response bodies of the `/risk` routes and the block-list request (README, "Risk").

Request bodies are the domain's own models (`commerce_ai.risk.schemas`), read strictly from JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Score, Timestamp
from commerce_ai.paging import PageQuery
from commerce_ai.risk.decisions import Outcome
from commerce_ai.risk.schemas import IDENTIFIER, EventType

BLOCKABLE = ("user", "device", "ip", "merchant")
BlockKind = Literal["user", "device", "ip", "merchant"]
LabelSource = Literal["chargeback", "manual_review", "customer_report", "other"]
_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class TransactionPath(BaseModel):
    transaction_id: str = Field(pattern=IDENTIFIER)


class BlockPath(BaseModel):
    kind: BlockKind
    identifier: str = Field(min_length=1, max_length=128, description="An id, or an IPv4 or IPv6 address.")


class BlocklistQuery(PageQuery):
    limit: int = Field(default=50, ge=1, le=100, description="Entries per page (a page may hold fewer).")


class BlockEntry(BaseModel):
    """A blocked user, device, IP or merchant, and why."""

    model_config = _OUT

    kind: BlockKind
    id: str
    reason: str


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked: bool
    reason: str = Field(default="blocked by an admin", min_length=1, max_length=200)


class RuleReason(BaseModel):
    """A rule that fired, with what it saw."""

    model_config = _OUT

    type: Literal["rule"]
    name: str
    outcome: Outcome
    detail: str


class FeatureReason(BaseModel):
    """A feature that raised the score (occlusion against the genuine median), rounded to 4 decimals."""

    model_config = _OUT

    type: Literal["feature"]
    name: str
    value: float
    contribution: float


Reason = Annotated[RuleReason | FeatureReason, Field(discriminator="type")]


class ScoreResponse(BaseModel):
    """The decision on a payment, with every reason for it."""

    model_config = _OUT

    transaction_id: str
    score: Score
    decision: Outcome
    reasons: list[Reason]
    model_version: str
    graph_version: str | None
    replayed: bool


class EventApplied(BaseModel):
    """Whether the account event changed the velocity state (a resent `event_id` does not)."""

    model_config = _OUT

    event_type: EventType
    applied: bool


class LabelStored(BaseModel):
    """The confirmed outcome, stored on the scored transaction."""

    model_config = _OUT

    transaction_id: str
    is_fraud: bool
    stored: bool


class TransactionLabel(BaseModel):
    model_config = _OUT

    is_fraud: bool
    source: LabelSource | None


class TransactionView(BaseModel):
    """A scored transaction as the operators see it: the decision, its reasons and any confirmed label."""

    model_config = _OUT

    transaction_id: str
    score: Score
    decision: Outcome
    reasons: list[Reason]
    model_version: str | None
    graph_version: str | None
    timestamp: Timestamp
    label: TransactionLabel | None


class BlockState(BaseModel):
    """An entity's place on the block list after the change."""

    model_config = _OUT

    kind: BlockKind
    id: str
    blocked: bool

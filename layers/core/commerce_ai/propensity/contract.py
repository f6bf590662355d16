"""Propensity's HTTP contract: the `/users` routes' paths, queries and responses (README, "Propensity")."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Count, Score, Timestamp

_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class PropensityQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    horizon: Literal["7d", "28d"] = Field(default="7d", description="Will the user buy within 7 or 28 days?")


class FeatureReason(BaseModel):
    """A feature that moved the probability: its value, and the probability minus the probability with
    the feature at its population median (positive: it raised the score)."""

    model_config = _OUT

    feature: str
    value: Score
    effect: Score


class Reasons(BaseModel):
    model_config = _OUT

    up: list[FeatureReason] = Field(max_length=3, description="The features that raised the score most.")
    down: list[FeatureReason] = Field(max_length=3, description="The features that lowered it most.")


class ExperimentArm(BaseModel):
    model_config = _OUT

    name: str
    arm: str


class PropensityView(BaseModel):
    """The probability that the user buys within the horizon."""

    model_config = _OUT

    user_id: str
    horizon: Literal["7d", "28d"]
    probability: Score
    model: str
    model_version: str
    cold_start: bool = Field(
        description="True for a user without a profile: the probability is the population prior (the share of "
        "users who bought within the horizon in the model's validation period)."
    )
    reasons: Reasons
    experiment: ExperimentArm | None


class SearchTerm(BaseModel):
    model_config = _OUT

    term: str
    count: Count


class Affinity(BaseModel):
    model_config = _OUT

    name: str
    events: Count
    purchases: Count


class SegmentMembership(BaseModel):
    """The user is in a segment the daily scoring run published (the top decile of the 7-day score)."""

    model_config = _OUT

    segment: Literal["high_intent"]
    day: str = Field(description="The day (UTC, YYYY-MM-DD) of the run that published it.")
    probability: Score = Field(description="The user's score in that run.")
    threshold: Score = Field(description="The segment's lowest score in that run.")
    horizon: Literal["7d", "28d"]
    model_version: str


class ProfileView(BaseModel):
    """A user's live aggregates and the features derived from them now (personal data: admin only)."""

    model_config = _OUT

    user_id: str
    revision: Count
    updated_at: Timestamp
    first_seen: Timestamp | None
    last_seen: Timestamp | None
    last_purchase: Timestamp | None
    sessions: Count
    search_terms: list[SearchTerm] = Field(max_length=10)
    categories: list[Affinity] = Field(max_length=10)
    brands: list[Affinity] = Field(max_length=10)
    features: dict[str, Score]
    segments: list[SegmentMembership] = Field(
        max_length=1, description="The daily segments the user is in (`high_intent`), from the last daily run."
    )

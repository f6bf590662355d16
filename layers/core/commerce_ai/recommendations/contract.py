"""The recommendations' HTTP contract: request, query and response bodies of the `/recommendations` routes
(README, "Recommendations"). Scores are `Score`s (6 decimals)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Count, Score
from commerce_ai.recommendations.filters import MAX_FILTER_CHARS
from commerce_ai.stream.schema import IDENTIFIER

ItemId = Annotated[str, Field(pattern=IDENTIFIER)]
MAX_RESULTS = 100
MAX_RANKED = 200
_OUT = ConfigDict(extra="forbid")


class UserPath(BaseModel):
    user_id: str = Field(pattern=IDENTIFIER)


class ItemPath(BaseModel):
    item_id: str = Field(pattern=IDENTIFIER)


class RecommendationsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=10, ge=1, le=MAX_RESULTS, description="How many items.")
    filter: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FILTER_CHARS,
        description="Clauses joined by `and`, e.g. `category = Comedy and price <= 20` (README).",
    )
    context: str | None = Field(
        default=None,
        pattern=r"^item:[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$",
        description="`item:<item_id>`: the page's item, treated as just viewed.",
    )
    segment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_]{1,40}:[^,:]{1,60}(,[A-Za-z0-9_]{1,40}:[^,:]{1,60}){0,9}$",
        description="`attribute:value,...` (e.g. `age_band:25-34,gender:F`): what the shop knows of a visitor "
        "without history, whose cold start is then the popularity within that segment.",
    )


class SimilarQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(default=10, ge=1, le=MAX_RESULTS, description="How many items.")


class RankRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(pattern=IDENTIFIER)
    item_ids: list[ItemId] = Field(min_length=1, max_length=MAX_RANKED, description="The items to order.")


class ExperimentArm(BaseModel):
    model_config = _OUT

    name: str
    arm: str


class RecommendedItem(BaseModel):
    model_config = _OUT

    item_id: str
    title: str
    category: str | None
    score: Score = Field(
        description="The ranker's share of the list after feedback, in [0, 1]; 0 for exploration slots."
    )
    reason: str = Field(description='e.g. "because you viewed X", "popular in Y", "new in Y".')


class Recommendations(BaseModel):
    model_config = _OUT

    user_id: str
    recommendations: list[RecommendedItem] = Field(max_length=MAX_RESULTS, description="Best first; not a page.")
    cold_start: bool = Field(description="True: the user has no history; these are popular items.")
    segment: dict[str, str] | None = Field(
        default=None,
        description="Cold start: the segment whose popularity was served (empty: the whole shop's); else null.",
    )
    session_items: Count = Field(description="Items from the user's live session blended in.")
    model_version: str
    experiment: ExperimentArm | None


class SimilarItems(BaseModel):
    model_config = _OUT

    item_id: str
    similar: list[RecommendedItem] = Field(max_length=MAX_RESULTS, description="Most similar first; not a page.")
    model_version: str


class RankedItems(BaseModel):
    model_config = _OUT

    user_id: str
    ranked: list[RecommendedItem] = Field(max_length=MAX_RANKED, description="The known items, best first.")
    unknown_item_ids: list[str] = Field(max_length=MAX_RANKED, description="Items the model cannot rank, as given.")
    cold_start: bool
    model_version: str
    experiment: ExperimentArm | None

"""The experiments' HTTP contract: request and response bodies of the `/experiments` routes (README,
"Experiments").

The request body is the domain's own `ExperimentChange` (`commerce_ai.experiments.definitions`), read
strictly from JSON. Rates, shares, differences and p-values are `Score`s (6 decimals); times are
`Timestamp`s (RFC 3339 UTC with `Z`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from commerce_ai.api_fields import Count, Score, Timestamp
from commerce_ai.experiments.definitions import (
    ARM_NAME,
    EXPERIMENT_NAME,
    MAX_ARMS,
    VARIANT_NAME,
    ExperimentChange,
    Metric,
    ModelRef,
)
from commerce_ai.paging import PageQuery

__all__ = [
    "ArmResults",
    "ArmView",
    "Comparison",
    "DifferenceView",
    "ExperimentChange",
    "ExperimentDetail",
    "ExperimentPath",
    "ExperimentResults",
    "ExperimentView",
    "ExperimentsQuery",
    "RateView",
]

DEFAULT_PAGE = 20
MAX_PAGE = 100
_OUT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)
# A share, rate or p-value: a Score (6 decimals) in [0, 1], bounds shown in the document too (a Score's
# serializer leaves them out of the response schema otherwise).
Probability = Annotated[
    Score, Field(ge=0, le=1), WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1}, mode="serialization")
]
Interval = tuple[Score, Score]


class ExperimentPath(BaseModel):
    name: str = Field(pattern=EXPERIMENT_NAME, description="1-63 lowercase letters, digits and '-'.")


class ExperimentsQuery(PageQuery):
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="Experiments per page.")


class ArmView(BaseModel):
    """An arm: what it serves (a pinned model version or a named variant), its weight and traffic share,
    and the users the plan asks of it."""

    model_config = _OUT

    name: str = Field(pattern=ARM_NAME)
    model: ModelRef | None = Field(description="The model version it serves; null for a variant.")
    variant: str | None = Field(pattern=VARIANT_NAME, description="The variant it serves; null for a model.")
    weight: float = Field(ge=0, le=1_000_000, description="As sent; shares are weight / sum of weights.")
    share: Probability
    planned_users: Count = Field(description="Users this arm needs (0 without traffic).")


class ExperimentView(BaseModel):
    """An experiment's definition."""

    model_config = _OUT

    name: str = Field(pattern=EXPERIMENT_NAME)
    description: str | None
    status: Literal["running", "stopped"]
    arms: list[ArmView] = Field(min_length=2, max_length=MAX_ARMS)
    control: str = Field(pattern=ARM_NAME, description="The arm every other arm is compared with.")
    primary_metric: Metric
    baseline_rate: Probability = Field(description="The primary metric's expected rate in control.")
    minimum_detectable_effect: Probability = Field(description="Absolute lift of the primary rate.")
    alpha: Probability = Field(description="Significance level of every comparison and of the plan.")
    power: Probability = Field(description="Power of the plan.")
    created_at: Timestamp
    updated_at: Timestamp
    stopped_at: Timestamp | None = Field(description="Events stamped at or after it do not count.")
    revision: Count = Field(description="Send it back as `revision` to change only what you read.")


class RateView(BaseModel):
    """A rate over the arm's users with its 95% Wilson interval; null without users."""

    model_config = _OUT

    rate: Probability | None
    ci95: tuple[Probability, Probability] | None = Field(description="[low, high].")


class DifferenceView(BaseModel):
    """The arm's rate minus control's, its 95% Wald interval and the two-proportion z-test; null (and not
    significant) while either arm has no users."""

    model_config = _OUT

    difference: Score | None
    ci95: Interval | None = Field(description="[low, high].")
    p_value: Probability | None = Field(description="Two-sided, variance pooled under the null.")
    significant: bool = Field(description="p_value below alpha (0.05).")


class Comparison(BaseModel):
    """A treatment against control, per metric."""

    model_config = _OUT

    click_through: DifferenceView
    conversion: DifferenceView


class ArmResults(BaseModel):
    """One arm's counters, rates and comparison with control."""

    model_config = _OUT

    arm: str = Field(pattern=ARM_NAME)
    control: bool = Field(description="Whether this is the control arm.")
    users: Count
    exposures: Count
    clickers: Count
    converters: Count
    click_through: RateView
    conversion: RateView
    vs_control: Comparison | None = Field(description="Null for the control arm.")
    planned_users: Count
    sample_size_reached: bool = Field(description="The arm has the users the plan asks of it.")


class ExperimentResults(BaseModel):
    """Results per arm, computed when asked."""

    model_config = _OUT

    primary_metric: Metric
    computed_at: Timestamp
    sample_size_reached: bool = Field(description="Every arm has the users the plan asks of it.")
    arms: list[ArmResults] = Field(min_length=2, max_length=MAX_ARMS)


class ExperimentDetail(ExperimentView):
    """An experiment's definition and its results per arm."""

    results: ExperimentResults

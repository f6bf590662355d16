"""From a model score and rules to `approve`, `review` or `decline`, with the reasons.

Rules run before the model (block lists and hard limits: they need only the request and the entities'
block flags) and after it (patterns over the velocity features that are clear enough to act on
whatever the score). The outcome is the most severe of the rules' outcomes and the score's band, as in
Fraud Detector's rules and outcomes. Every decision lists the rules that fired and the features that
pushed the score up most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commerce_ai.risk.velocity import SMALL_PAYMENT

Outcome = Literal["approve", "review", "decline"]
SEVERITY: dict[Outcome, int] = {"approve": 0, "review": 1, "decline": 2}


class RuleConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    decline_amount: float = Field(default=20_000.0, gt=0, description="Hard limit: a larger payment is declined.")
    review_amount: float = Field(default=5_000.0, gt=0, description="A payment this large is at least reviewed.")
    card_testing_payments_1h: int = Field(
        default=8, ge=2, description="Payments of at most SMALL_PAYMENT from one device in 1 h that make a burst."
    )
    impossible_travel_kmh: float = Field(default=1_000.0, gt=0, description="Faster than an airliner.")


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    review: float = Field(ge=0, le=1)
    decline: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.decline < self.review:
            raise ValueError("the decline threshold must not be below the review threshold")
        return self

    def outcome(self, score: float) -> Outcome:
        return "decline" if score >= self.decline else "review" if score >= self.review else "approve"


@dataclass(frozen=True)
class RuleHit:
    name: str
    outcome: Outcome
    detail: str


def pre_model_rules(amount: float, blocked: Mapping[str, str], config: RuleConfig) -> list[RuleHit]:
    """`blocked`: entity kind -> the reason an admin gave for blocking it (user, device, ip, merchant)."""
    hits = [
        RuleHit(f"blocklist_{kind}", "decline", f"{kind} is on the block list: {why}") for kind, why in blocked.items()
    ]
    if amount > config.decline_amount:
        hits.append(
            RuleHit("amount_hard_limit", "decline", f"amount above the hard limit of {config.decline_amount:g}")
        )
    elif amount >= config.review_amount:
        hits.append(RuleHit("amount_review_limit", "review", f"amount at or above {config.review_amount:g}"))
    return hits


def post_model_rules(amount: float, features: Mapping[str, float], config: RuleConfig) -> list[RuleHit]:
    """`features`: the model's features by name and the rule signals (`commerce_ai.risk.features.rule_inputs`)."""
    hits = []
    # Counted from the device's small-payment series, so the detail is true of every payment it counts.
    small = int(features["device_small_payments_1h"]) + 1  # this one included
    if amount <= SMALL_PAYMENT and small >= config.card_testing_payments_1h:
        hits.append(
            RuleHit(
                "card_testing_burst",
                "decline",
                f"{small} payments of {SMALL_PAYMENT:g} or less from this device within an hour, this one included",
            )
        )
    if features["session_speed_kmh"] >= config.impossible_travel_kmh and features["session_new_device"] >= 1:
        hits.append(
            RuleHit(
                "impossible_travel_new_device",
                "review",
                f"the session's login came from a new device at an implied {features['session_speed_kmh']:.0f} km/h",
            )
        )
    if features["user_account_changes_24h"] >= 1 and features["device_new_for_user"] >= 1:
        hits.append(
            RuleHit(
                "account_change_then_new_device",
                "review",
                "the account's credentials or contact details changed in the last 24 h and this device is new",
            )
        )
    return hits


def combine(score_outcome: Outcome, hits: list[RuleHit]) -> Outcome:
    outcomes: list[Outcome] = [score_outcome, *(h.outcome for h in hits)]
    return max(outcomes, key=SEVERITY.__getitem__)


def reasons(hits: list[RuleHit], top_features: list[tuple[str, float, float]]) -> list[dict[str, Any]]:
    """Rules first, then features as (name, value, contribution to the score)."""
    return [{"type": "rule", "name": h.name, "outcome": h.outcome, "detail": h.detail} for h in hits] + [
        {"type": "feature", "name": name, "value": round(value, 4), "contribution": round(contribution, 4)}
        for name, value, contribution in top_features
    ]


def rules_decline(amount: float, blocked: Mapping[str, str], features: Mapping[str, float], config: RuleConfig) -> bool:
    """Whether the rules alone decline a payment. Such a payment still counts in the velocity windows but does
    not make its device, IP or place familiar to the user (`velocity.payment_updates(trusted=False)`); the
    score's own declines do not change that, so the training replay, which has no model yet, does the same."""
    hits = pre_model_rules(amount, blocked, config) + post_model_rules(amount, features, config)
    return combine("approve", hits) == "decline"

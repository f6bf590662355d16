"""Propensity HTTP API (API Gateway -> Chalice): a user's purchase propensity, and (admin) their profile."""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.erasure.contract import UserPath  # the shop's user id, as the behaviour events carry it
from commerce_ai.http import json_api
from commerce_ai.propensity import service
from commerce_ai.propensity.contract import (
    ExperimentArm,
    FeatureReason,
    ProfileView,
    PropensityQuery,
    PropensityView,
    Reasons,
)
from commerce_ai.stream.callers import shop_backend

app = json_api("propensity")


@app.route(
    "/users/{user_id}/propensity",
    methods=["GET"],
    path_params=UserPath,
    query=PropensityQuery,
    response=PropensityView,
    caller=shop_backend,
    errors=(503,),
)
def get_propensity(user_id: str, query: PropensityQuery) -> PropensityView:
    """The probability that the user buys within 7 or 28 days, with the features that moved it."""
    scored = service.score(user_id, query.horizon, datetime.now(UTC))
    return PropensityView(
        user_id=scored.user_id,
        horizon=query.horizon,
        probability=scored.probability,
        model=scored.model,
        model_version=scored.model_version,
        cold_start=scored.cold_start,
        reasons=Reasons(
            up=[FeatureReason(feature=r.feature, value=r.value, effect=r.effect) for r in scored.up],
            down=[FeatureReason(feature=r.feature, value=r.value, effect=r.effect) for r in scored.down],
        ),
        experiment=ExperimentArm(**scored.experiment) if scored.experiment else None,
    )


@app.route(
    "/users/{user_id}/profile",
    methods=["GET"],
    path_params=UserPath,
    response=ProfileView,
    admin=True,
    errors=(404,),
)
def get_profile(user_id: str) -> ProfileView:
    """A user's live behaviour aggregates and derived features (admin: personal data)."""
    return ProfileView.model_validate(service.profile_view(user_id, datetime.now(UTC)))

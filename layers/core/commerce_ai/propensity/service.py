"""What propensity's handlers call: fold a live event into the user's profile, show a profile, score a user.

Built once per container (the store, one ModelLoader per horizon). Serving computes features with the
same `feature_vector` training used, from the stored profile at the time of the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from commerce_ai import experiments
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.propensity.batch import DAILY_ACTIVE_DAYS, HIGH_INTENT, BatchRequest, JobResult, JobStore, run_job
from commerce_ai.propensity.features import FEATURE_NAMES, feature_vector
from commerce_ai.propensity.model import HORIZONS, PropensityModel, Reason, model_name, open_propensity_model
from commerce_ai.propensity.profile import ItemFacts, Profile
from commerce_ai.propensity.settings import settings
from commerce_ai.propensity.store import ProfileStore, StoredProfile
from commerce_ai.stream.schema import IDENTIFIER, BehaviourEvent, format_timestamp
from commerce_ai.telemetry import logger

CONSUMER = "propensity-profiles"
WRITE_ATTEMPTS = 5  # conditional writes lost to a concurrent update of the same user, then the queue retries


@cache
def store() -> ProfileStore:
    return ProfileStore.from_settings()


@cache
def model_loader(horizon: str) -> ModelLoader[PropensityModel]:
    return ModelLoader(model_name(horizon), expected_features=FEATURE_NAMES, opener=open_propensity_model)


class ProfileConflict(RuntimeError):
    """Another writer kept winning the same user's profile; the record is retried by the queue."""


def apply_event(event: BehaviourEvent, now: float, facts: ItemFacts | None = None) -> str:
    """Fold one live event into its user's stored profile: `applied` or `duplicate` (the profile had it).
    `facts` are the catalogue's about the event's item (None: the event's `properties` are read). Events of
    erased users never get here: the stream's `EventConsumer` skips them."""
    for _ in range(WRITE_ATTEMPTS):
        stored = store().get(event.user_id, consistent=True)
        profile = stored.profile if stored else Profile(event.user_id)
        if not profile.apply(event, facts):
            return "duplicate"
        if store().save(profile, stored.revision if stored else None, now):
            return "applied"
        logger.info("profile changed under this update; folding again")
    raise ProfileConflict(f"the profile kept changing over {WRITE_ATTEMPTS} attempts")


def checked_user(user_id: str) -> str:
    if not re.fullmatch(IDENTIFIER, user_id):
        raise InvalidInput("user_id must be 1-128 letters, digits or . _ : @ + = -, starting with a letter or digit")
    return user_id


def checked_horizon(horizon: str) -> str:
    if horizon not in HORIZONS:
        raise InvalidInput(f"horizon must be one of {', '.join(HORIZONS)}")
    return horizon


def profile_view(user_id: str, now: datetime) -> dict[str, Any]:
    """The stored aggregates and the features derived from them at `now`; NotFound for an unknown user."""
    stored = store().get(checked_user(user_id))
    if stored is None:
        raise NotFound(f"no profile for user {user_id!r}")
    profile = stored.profile
    features = feature_vector(profile, now)
    top = sorted(profile.searches.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "user_id": user_id,
        "revision": stored.revision,
        "updated_at": format_timestamp(datetime.fromtimestamp(stored.updated_at, tz=now.tzinfo)),
        "first_seen": _stamp(profile.first_seen, now),
        "last_seen": _stamp(profile.last_seen, now),
        "last_purchase": _stamp(profile.last_purchase, now),
        "sessions": profile.session_count,
        "search_terms": [{"term": term, "count": int(count)} for term, count in top[:10]],
        "categories": _affinity(profile.categories),
        "brands": _affinity(profile.brands),
        "features": dict(zip(FEATURE_NAMES, features, strict=True)),
        "segments": [m for m in [store().segment(user_id, HIGH_INTENT, now.timestamp())] if m is not None],
    }


def _stamp(at: float | None, now: datetime) -> str | None:
    return None if at is None else format_timestamp(datetime.fromtimestamp(at, tz=now.tzinfo))


def _affinity(table: dict[str, list[float]]) -> list[dict[str, Any]]:
    ranked = sorted(table.items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    return [{"name": name, "events": int(v[0]), "purchases": int(v[1])} for name, v in ranked]


@dataclass(frozen=True)
class Scored:
    user_id: str
    horizon: str
    probability: float
    model: str
    model_version: str
    cold_start: bool
    up: list[Reason]
    down: list[Reason]
    experiment: dict[str, str] | None


def _model_for(horizon: str, user_id: str) -> tuple[LoadedModel[PropensityModel], dict[str, str] | None]:
    """The active model, or the one the user's arm serves when an experiment named after the model runs."""
    name = model_name(horizon)
    try:
        arm = experiments.assign(name, user_id)
    except NotFound:
        return model_loader(horizon).get(), None
    field = experiments.response_field(arm)["experiment"]
    if arm.model is None or arm.model.model != name:  # a variant, or another model: this route serves its own
        return model_loader(horizon).get(), field
    return experiments.model_for(arm, expected_features=FEATURE_NAMES, opener=open_propensity_model), field


def score(user_id: str, horizon: str, now: datetime) -> Scored:
    user_id, horizon = checked_user(user_id), checked_horizon(horizon)
    loaded, arm = _model_for(horizon, user_id)
    stored: StoredProfile | None = store().get(user_id)
    model = loaded.model
    if stored is None:  # cold start: the population prior, said so
        return Scored(user_id, horizon, model.policy.prior, loaded.manifest.name, loaded.version, True, [], [], arm)
    probability, up, down = model.score(feature_vector(stored.profile, now))
    return Scored(user_id, horizon, probability, loaded.manifest.name, loaded.version, False, up, down, arm)


@cache
def jobs() -> JobStore:
    return JobStore(settings().need("propensity_jobs_table"))


def run_batch(request: BatchRequest, now: datetime, daily: bool = False) -> JobResult:
    """A batch-scoring job with the active model of its horizon (commerce_ai.propensity.batch)."""
    loaded = model_loader(request.horizon).get()
    return run_job(
        request,
        now,
        store=store(),
        jobs=jobs(),
        bucket=settings().need("propensity_exports_bucket"),
        model=loaded.model,
        version=loaded.version,
        daily=daily,
    )


def daily_request(now: datetime) -> BatchRequest:
    return BatchRequest(job_id=f"daily-{now:%Y-%m-%d}", horizon="7d", active_days=DAILY_ACTIVE_DAYS)

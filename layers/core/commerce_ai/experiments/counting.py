"""Exposures and outcomes from the behaviour-event stream, counted per arm (the consumer's domain logic).

What counts, per experiment and arm:
- an *exposure* is an `impression` event whose `properties` name the experiment and one of its arms
  (`{"experiment": name, "arm": arm}`); each impression counts once (by `event_id`), whoever it shows;
- a *user* of an arm is a user whose first counted exposure in the experiment named that arm; a user
  belongs to one arm for good, even if a weight change later shows them another one;
- a *clicker* (*converter*) is a user whose first `click` (`purchase`) at or after their first exposure
  has been seen, counted once per user, for the user's arm. The click or purchase needs no experiment
  in its properties: it is attributed to the user's arm in every experiment that exposed the user.
- Only events stamped before the experiment stopped count. An outcome that arrives before the user's
  exposure has been counted (the stream does not promise order) is not counted: it errs towards fewer
  outcomes, alike in every arm.
Click-through rate is clickers / users and conversion rate converters / users (see `stats`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from commerce_ai.experiments.definitions import Experiment
from commerce_ai.experiments.store import ExperimentStore
from commerce_ai.stream.schema import BehaviourEvent

OUTCOME_TYPES = ("click", "purchase")


@dataclass
class Applied:
    """What a batch of events changed (for logs and tests); identifiers only, never user ids."""

    users: int = 0
    exposures: int = 0
    duplicates: int = 0
    clickers: int = 0
    converters: int = 0
    ignored: int = 0  # impressions naming an unknown experiment or arm, or stamped after the stop


def apply_events(
    events: Sequence[BehaviourEvent],
    store: ExperimentStore,
    experiments: Callable[[], Sequence[Experiment]] | None = None,
    now: datetime | None = None,
) -> Applied:
    """Count `events` (in time order) into `store`; applying the same events again changes nothing.

    `experiments` lists the defined experiments (a cached listing on the hot path; default: read them
    all from the store). An impression naming an experiment the listing lacks reads that definition
    from the store, so a brand-new experiment never loses exposures to a stale cache."""
    now = now or datetime.now(UTC)
    applied = Applied()
    known = {e.name: e for e in (experiments or store.all)()}
    for event in sorted(events, key=lambda e: e.timestamp):
        if event.event_type == "impression":
            _exposure(event, store, known, applied, now)
        elif event.event_type in OUTCOME_TYPES:
            for experiment in known.values():
                if experiment.counts_at(event.timestamp) and store.record_outcome(
                    experiment.name,
                    event.user_id,
                    "click" if event.event_type == "click" else "purchase",
                    event.timestamp,
                    now,
                ):
                    if event.event_type == "click":
                        applied.clickers += 1
                    else:
                        applied.converters += 1
    return applied


def _exposure(
    event: BehaviourEvent, store: ExperimentStore, known: dict[str, Experiment], applied: Applied, now: datetime
) -> None:
    named = event.experiment_arm()
    if named is None:
        return
    name, arm = named
    experiment = known.get(name)
    if experiment is None:
        found = store.get(name)
        if found is not None:
            known[name] = experiment = found
    if experiment is None or experiment.arm(arm) is None or not experiment.counts_at(event.timestamp):
        applied.ignored += 1
        return
    result = store.record_exposure(name, arm, event.user_id, event.event_id, event.timestamp, now)
    if result == "duplicate":
        applied.duplicates += 1
        return
    applied.exposures += 1
    if result == "new_user":
        applied.users += 1

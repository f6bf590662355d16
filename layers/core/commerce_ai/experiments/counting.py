"""Exposures and outcomes from the behaviour-event stream, counted per arm (the consumer's domain logic).

What counts, per experiment and arm:
- an *exposure* is an `impression` event whose `properties` name the experiment and one of its arms
  (`{"experiment": name, "arm": arm}`); each impression counts once (by `event_id`), whoever it shows;
- a *user* of an arm is a user whose first counted exposure in the experiment named that arm; a user
  belongs to one arm for good, even if a weight change later shows them another one;
- a *clicker* (*converter*) is a user whose first `click` (`purchase`) at or after their first exposure
  has been seen, counted once per user, for the user's arm. The click or purchase needs no experiment
  in its properties: it is attributed to the user's arm in every experiment that exposed the user.
- Only events stamped before the experiment stopped count. A batch is applied in time order (at the same
  instant, impressions first). An outcome that arrives in an earlier batch than the user's exposure (the
  stream does not promise order) is not counted: it errs towards fewer outcomes, alike in every arm.
Click-through rate is clickers / users and conversion rate converters / users (see `stats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from commerce_ai.experiments.serving import Definitions
from commerce_ai.experiments.store import ExperimentStore, Outcome
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
    definitions: Definitions | None = None,
    now: datetime | None = None,
) -> Applied:
    """Count `events` into `store` (in time order, impressions first at the same instant); applying
    the same events again changes nothing.

    `definitions` are the container's cached definitions (default: read afresh from `store`). An
    impression naming an experiment they lack reads that definition at once, so a brand-new experiment
    never loses exposures to a stale cache, and its outcomes count from then on."""
    now = now or datetime.now(UTC)
    definitions = definitions or Definitions(store, refresh_seconds=0)
    applied = Applied()
    for event in sorted(events, key=_time_order):
        if event.event_type == "impression":
            _exposure(event, store, definitions, applied, now)
        elif event.event_type in OUTCOME_TYPES:
            outcome: Outcome = "click" if event.event_type == "click" else "purchase"
            for experiment in definitions.all():
                if experiment.counts_at(event.timestamp) and store.record_outcome(
                    experiment.name, event.user_id, outcome, event.timestamp, now
                ):
                    if outcome == "click":
                        applied.clickers += 1
                    else:
                        applied.converters += 1
    return applied


def _time_order(event: BehaviourEvent) -> tuple[datetime, bool]:
    """Events in time order; at the same instant an impression comes first, so a click stamped with its
    exposure's time counts (at or after exposure) whichever of the two was sent first."""
    return event.timestamp, event.event_type != "impression"


def _exposure(
    event: BehaviourEvent, store: ExperimentStore, definitions: Definitions, applied: Applied, now: datetime
) -> None:
    named = event.experiment_arm()
    if named is None:
        return
    name, arm = named
    experiment = definitions.find(name)
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

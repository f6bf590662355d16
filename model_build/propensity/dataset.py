"""Examples for the propensity models: a user's features at a cut-off and whether they bought after it.

Out of time, as production works: at each cut-off, a user's profile is folded from the events strictly
before it (the serving feature code: `commerce_ai.propensity.features`), and the labels are whether the
user made at least one purchase in the `horizon` days from the cut-off. Only users seen before a cut-off
give an example at it.

The CDNOW protocol (issue 12): the holdout cut-off is 1997-10-01 00:00 UTC (the calibration period runs
up to and including 1997-09-30), with labels from October 1997. Validation and training cut-offs step
back 28 days at a time from there, so every training and validation label window ends on or before
1997-09-30 and no label after the calibration period is used for training, tuning or calibration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from commerce_ai.propensity.features import FEATURE_NAMES, feature_vector
from commerce_ai.propensity.profile import Profile
from model_build.propensity.data import frame_events

if TYPE_CHECKING:
    import pandas

HORIZONS: tuple[int, ...] = (7, 28)
STEP_DAYS = 28
CDNOW_HOLDOUT = datetime(1997, 10, 1, tzinfo=UTC)
TRAINING_CUTOFFS = 5
# The least history `Plan.for_data` can split: the holdout's labels (28 days), the validation's (28), one
# training cut-off's (28) and a week before it.
MIN_HISTORY_DAYS = 3 * STEP_DAYS + 7


@dataclass(frozen=True)
class Plan:
    """Cut-offs: several for training, one for validation (early stopping, calibration), one for holdout."""

    training: list[datetime]
    validation: datetime
    holdout: datetime

    @classmethod
    def stepping_back(
        cls, holdout: datetime, first_event: datetime, training: int = TRAINING_CUTOFFS, step_days: int = STEP_DAYS
    ) -> Plan:
        step = timedelta(days=step_days)
        validation = holdout - step
        cutoffs = [validation - step * (i + 1) for i in range(training)]
        usable = [c for c in cutoffs if c - first_event >= timedelta(days=7)]  # a week of history at least
        if not usable:
            raise ValueError(
                f"the data spans too little time: needs events from at least {(3 * step).days + 7} days before "
                f"{holdout:%Y-%m-%d} for a training, a validation and a holdout cut-off"
            )
        return cls(sorted(usable), validation, holdout)

    @classmethod
    def for_data(cls, frame: pandas.DataFrame) -> Plan:
        """For a user's data: the holdout cut-off 28 days before its last event, so its labels are complete."""
        last = frame["timestamp"].max().to_pydatetime()
        first = frame["timestamp"].min().to_pydatetime()
        end_of_day = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        return cls.stepping_back(end_of_day - timedelta(days=max(HORIZONS)), first)


@dataclass(frozen=True)
class Examples:
    features: np.ndarray  # float32 [n, len(FEATURE_NAMES)]
    labels: dict[int, np.ndarray]  # horizon (days) -> bool [n]
    cutoff: np.ndarray  # epoch seconds [n]
    users: list[str]

    def rows(self, mask: np.ndarray) -> Examples:
        return Examples(
            self.features[mask],
            {h: y[mask] for h, y in self.labels.items()},
            self.cutoff[mask],
            [u for u, keep in zip(self.users, mask, strict=True) if keep],
        )

    def at(self, cutoff: datetime) -> Examples:
        return self.rows(self.cutoff == cutoff.timestamp())

    def before(self, cutoff: datetime) -> Examples:
        return self.rows(self.cutoff < cutoff.timestamp())

    def column(self, name: str) -> np.ndarray:
        return self.features[:, FEATURE_NAMES.index(name)]


def cutoff_profiles(
    frame: pandas.DataFrame, cutoffs: Sequence[datetime], skip_users: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Profile, float, np.ndarray]]:
    """Each user's events folded once, in time order: at each cut-off (ascending) where the user has been
    seen, (user, their profile from the events before it, the cut-off as epoch seconds, every purchase time
    of the user as epoch seconds). The profile is the same object, advanced from one cut-off to the next,
    so a caller reads it before asking for the next."""
    ordered = sorted(cutoffs)
    frame = frame.sort_values(["user_id", "timestamp", "event_id"], kind="stable")

    def folded(user: str, events: list) -> Iterator[tuple[str, Profile, float, np.ndarray]]:
        profile = Profile(user)
        purchases = np.array([e.timestamp.timestamp() for e in events if e.event_type == "purchase"])
        position = 0
        for cutoff in ordered:
            edge = cutoff.timestamp()
            while position < len(events) and events[position].timestamp.timestamp() < edge:
                profile.apply(events[position])
                position += 1
            if profile.first_seen is not None:
                yield user, profile, edge, purchases

    current: str | None = None
    history: list = []
    for event in frame_events(frame):
        if event.user_id != current:
            if current is not None and current not in skip_users:
                yield from folded(current, history)
            current, history = event.user_id, []
        history.append(event)
    if current is not None and current not in skip_users:
        yield from folded(current, history)


def examples(
    frame: pandas.DataFrame,
    cutoffs: Sequence[datetime],
    horizons: Iterable[int] = HORIZONS,
    skip_users: frozenset[str] = frozenset(),
) -> Examples:
    """One example per user seen before each cut-off (module docstring); `skip_users` (erased users) none."""
    horizons = tuple(horizons)
    rows: list[list[float]] = []
    labels: dict[int, list[bool]] = {h: [] for h in horizons}
    times: list[float] = []
    users: list[str] = []
    for user, profile, edge, purchases in cutoff_profiles(frame, cutoffs, skip_users):
        rows.append(feature_vector(profile, edge))
        times.append(edge)
        users.append(user)
        for h in horizons:
            labels[h].append(bool(((purchases >= edge) & (purchases < edge + h * 86_400)).any()))
    return Examples(
        np.asarray(rows, dtype=np.float32).reshape(-1, len(FEATURE_NAMES)),
        {h: np.asarray(v, dtype=bool) for h, v in labels.items()},
        np.asarray(times, dtype=np.float64),
        users,
    )

"""Training data from the behaviour-event archive: what a capability that learns from behaviour (user
propensity, recommendations) reads by default when `commerce-ai train <capability>` runs without `--data`.

    from model_build.behaviour_events import archived_events
    frame = archived_events(days=90)  # one row per event_id, oldest first

The archive is written by `BehaviourArchiveFunction` (README, "Behaviour events"); duplicates from
redeliveries or re-posts are dropped by `event_id` on reading.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from commerce_ai.stream import settings
from commerce_ai.stream.archive import read_events
from commerce_ai.stream.schema import BehaviourEvent

if TYPE_CHECKING:
    import pandas


def archive_bucket() -> str:
    """BEHAVIOUR_EVENTS_BUCKET when set (a deployed stack), else the local stack's events bucket."""
    configured = os.environ.get(settings.ARCHIVE_BUCKET, "").strip()
    if configured:
        return configured
    from infra.template import Stack

    return Stack().physical_name("BehaviourEventsBucket")


def events_frame(records: Iterable[dict[str, Any]]) -> pandas.DataFrame:
    """Archive records as a DataFrame: one column per schema field, `timestamp` as UTC datetimes, sorted
    by time (then `event_id`)."""
    import pandas

    frame = pandas.DataFrame.from_records(list(records)).reindex(columns=list(BehaviourEvent.model_fields))
    frame["timestamp"] = pandas.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    return frame.sort_values(["timestamp", "event_id"], kind="stable").reset_index(drop=True)


def archived_events(
    days: int = 90, end: date | None = None, bucket: str | None = None, start: date | None = None
) -> pandas.DataFrame:
    """The archived events of the `days` days up to `end` (today, UTC, by default), or from `start`."""
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=days - 1)
    return events_frame(read_events(bucket or archive_bucket(), first, last))

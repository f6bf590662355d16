"""Training data from the behaviour-event archive: what a capability that learns from behaviour (user
propensity, recommendations) reads by default when `commerce-ai train <capability>` runs without `--data`.

    from model_build.behaviour_events import archived_events
    frame = archived_events(days=90)   # one row per event_id, oldest first

The archive is written by `BehaviourArchiveFunction` (README, "Behaviour events"); duplicates from
redeliveries or re-posts are dropped by `event_id` on reading.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from commerce_ai.stream import settings
from commerce_ai.stream.archive import read_events

if TYPE_CHECKING:
    import pandas


def archive_bucket() -> str:
    """BEHAVIOUR_EVENTS_BUCKET when set (a deployed stack), else the local stack's events bucket."""
    configured = os.environ.get(settings.ARCHIVE_BUCKET, "").strip()
    if configured:
        return configured
    from infra.template import Stack

    return Stack().physical_name("BehaviourEventsBucket")


def archived_events(
    days: int = 90, end: date | None = None, bucket: str | None = None, start: date | None = None
) -> pandas.DataFrame:
    """The archived events of the `days` days up to `end` (today, UTC, by default), or from `start`."""
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=days - 1)
    return read_events(bucket or archive_bucket(), first, last)

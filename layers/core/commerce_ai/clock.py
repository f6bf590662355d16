"""The project's clock: one timestamp format for registry, catalog and health records."""

from __future__ import annotations

from datetime import UTC, date, datetime

EARLIEST_YEAR = 1000


def utc_now() -> str:
    """Now, in UTC, to the second: the timestamp format of every registry and health record."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the millisecond: the one timestamp format of the API."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def four_digit_year(moment: datetime | date) -> datetime | date:
    """A time or date from a request, refused (ValueError, a 400 or a refused record naming its field) when
    its year has fewer than four digits: stored as text, year 999 sorts after every modern date, so one such
    observation would freeze a SKU's latest competitor price until every later observation was refused."""
    if moment.year < EARLIEST_YEAR:
        raise ValueError(f"year must have four digits ({EARLIEST_YEAR}-9999)")
    return moment

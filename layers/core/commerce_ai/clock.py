"""The project's clock: one timestamp format for registry, catalog and health records."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now, in UTC, to the second: the timestamp format of every registry and health record."""
    return datetime.now(UTC).isoformat(timespec="seconds")

"""Sample events (`events/<capability>/<Function>-<Event>[-variant].json`) as `commerce-ai invoke` runs them.

A sample is a whole Lambda event for one of the function's triggers in template.yaml. Times that must be
recent (a payment scored now, a fresh competitor price) are written as placeholders and filled in when
the sample is loaded, so a sample works on any day:

- `{{now}}`: now, RFC 3339 in UTC with a `Z` (`2026-12-05T14:30:00.000Z`);
- `{{now-5m}}`, `{{now+2h}}`, `{{now-1d}}`: now moved by seconds (`s`), minutes (`m`), hours (`h`) or days (`d`).

Placeholders are replaced in the file's text, so they work inside an SQS body or an API body too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from commerce_ai.stream.schema import format_timestamp

PLACEHOLDER = re.compile(r"\{\{now(?:(?P<sign>[+-])(?P<amount>\d+)(?P<unit>[smhd]))?\}\}")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# <Function>-<Event>[-variant].json: the function's logical id and the name of one of its events.
SAMPLE_NAME = re.compile(r"^(?P<function>[A-Za-z0-9]+)-(?P<event>[A-Za-z0-9]+)(?:-(?P<variant>[a-z0-9-]+))?\.json$")


def fill_placeholders(text: str, now: datetime) -> str:
    """`text` with every `{{now...}}` placeholder replaced by a timestamp relative to `now`."""

    def stamp(found: re.Match[str]) -> str:
        moment = now
        if found["sign"]:
            offset = timedelta(**{_UNITS[found["unit"]]: int(found["amount"])})
            moment = now + offset if found["sign"] == "+" else now - offset
        return format_timestamp(moment)

    return PLACEHOLDER.sub(stamp, text)


def load_event(path: Path, now: datetime | None = None) -> dict[str, Any]:
    """The event in `path`, its placeholders filled in with `now` (default: the current time)."""
    event = json.loads(fill_placeholders(path.read_text(), now or datetime.now(UTC)))
    if not isinstance(event, dict):
        raise ValueError(f"{path}: a Lambda event is a JSON object")
    return event

"""The sample events under events/, loaded as `commerce-ai invoke` loads them (placeholders filled in)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from infra.sample_events import load_event
from infra.template import ROOT


def sample(relative: str, now: datetime | None = None) -> dict[str, Any]:
    """The whole Lambda event in `events/<relative>`, its `{{now}}` placeholders filled in with `now`
    (default: the current time)."""
    return load_event(ROOT / "events" / relative, now)


def sample_body(relative: str, now: datetime | None = None) -> Any:
    """What a sample carries: its first SQS record's body, or its API request's body, parsed."""
    event = sample(relative, now)
    raw = event["Records"][0]["body"] if "Records" in event else event["body"]
    return json.loads(raw)

"""Competitor price index per SKU, from monitored competitor price observations."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_COMPETITORS = 10
STALE_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class Observation:
    competitor: str
    price: float
    observed_at: datetime


def latest_per_competitor(observations: list[Observation]) -> dict[str, Observation]:
    latest: dict[str, Observation] = {}
    for obs in observations:
        kept = latest.get(obs.competitor)
        if kept is None or obs.observed_at > kept.observed_at:
            latest[obs.competitor] = obs
    return latest


def tracked(latest: dict[str, Observation], now: datetime, limit: int = MAX_COMPETITORS) -> list[Observation]:
    """The competitors that count: fresh ones only, at most `limit`, most recently seen first.

    Stale prices describe a market that has moved on; capping the set keeps one noisy marketplace of
    resellers from drowning out the competitors shoppers actually compare against.
    """
    fresh = [o for o in latest.values() if now - o.observed_at <= STALE_AFTER]
    fresh.sort(key=lambda o: (o.observed_at, o.competitor), reverse=True)
    return fresh[:limit]


def competitor_index(latest: dict[str, Observation], now: datetime) -> float | None:
    """The median of the tracked competitors' latest prices, or None with no fresh observation.

    The median, not the mean: one competitor's error or flash sale must not drag the reference price.
    """
    prices = [o.price for o in tracked(latest, now)]
    return statistics.median(prices) if prices else None

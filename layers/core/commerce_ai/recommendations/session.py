"""A user's short-term state, kept by the event consumer and read by every GET (pure logic; `store` keeps it).

What it holds, per user:
- `recent`: the last `MAX_RECENT` items the user viewed, clicked, carted, bought or rated, with times;
- `excluded`: items bought or rated (never recommended again) and items in the cart (until removed);
- `not_interested`: items the user dismissed: never recommended, and their neighbours down-weighted;
- `impressions`: per item shown without a click since, how often and when last (fatigue);
- `applied`: the ids of the last `MAX_APPLIED_IDS` events applied, so applying one again changes nothing.
  The stream's ledger skips a redelivered event, but not one whose state write landed while its answer
  was lost (the SDK's retry then fails the revision condition and the store re-reads and re-applies), nor
  one whose ledger entry failed after the write: the reliability campaign counted impressions twice there.

How it changes recommendations:
- **Blending.** The session's recent items are appended after the user's long-term history, so the
  ranker's position decay (0.9 per newer item) weights them most: the session's share of the history's
  weight is 1 - 0.9^s for s session items (10% with one, 27% with three, 65% with ten, 88% with twenty),
  shifting toward the session as it grows. Each session item's weight also halves every
  `SESSION_HALF_LIFE` seconds, so an old session fades back into the long-term profile.
- **Fatigue.** Each impression without a click since takes `FATIGUE_PER_IMPRESSION` off an item's score
  (at most `FATIGUE_MAX`); the penalty halves every `FATIGUE_HALF_LIFE` seconds after the last impression
  (it recovers), and a click or view clears it.
- **Not interested.** The item is removed; each of its cosine neighbours loses up to
  `NEIGHBOUR_PENALTY` of its score, in proportion to its similarity (relative to the closest neighbour).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from commerce_ai.stream.schema import BehaviourEvent

MAX_RECENT = 20
MAX_TRACKED = 200  # per map (excluded, dismissed, impressions): the oldest entries go first
SESSION_HALF_LIFE = 1800.0
FATIGUE_PER_IMPRESSION = 0.15
FATIGUE_MAX = 0.9
FATIGUE_HALF_LIFE = 6 * 3600.0
NEIGHBOUR_PENALTY = 0.5
SESSION_TTL_DAYS = 30  # personal data: the item expires this long after the user's last event
INTEREST_EVENTS = ("view", "click", "add_to_cart", "purchase", "rating")
MAX_APPLIED_IDS = 64  # a repeat comes within a retry or a visibility timeout, long before 64 newer events


@dataclass
class SessionState:
    recent: list[tuple[str, float]] = field(default_factory=list)  # (item, unix time), oldest first
    excluded: dict[str, str] = field(default_factory=dict)  # item -> purchase | rating | cart
    not_interested: dict[str, float] = field(default_factory=dict)  # item -> when
    impressions: dict[str, tuple[int, float]] = field(default_factory=dict)  # item -> (count, last time)
    updated_at: float = 0.0
    applied: list[str] = field(default_factory=list)  # the last event ids applied, oldest first

    def as_json(self) -> dict[str, Any]:
        return {
            "recent": [[item, at] for item, at in self.recent],
            "excluded": self.excluded,
            "not_interested": self.not_interested,
            "impressions": {item: [count, at] for item, (count, at) in self.impressions.items()},
            "updated_at": self.updated_at,
            "applied": self.applied,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionState:
        return cls(
            recent=[(str(item), float(at)) for item, at in data.get("recent", [])],
            excluded={str(k): str(v) for k, v in data.get("excluded", {}).items()},
            not_interested={str(k): float(v) for k, v in data.get("not_interested", {}).items()},
            impressions={str(k): (int(v[0]), float(v[1])) for k, v in data.get("impressions", {}).items()},
            updated_at=float(data.get("updated_at", 0.0)),
            applied=[str(e) for e in data.get("applied", [])],
        )


def _bounded(mapping: dict[str, Any], limit: int = MAX_TRACKED) -> None:
    while len(mapping) > limit:
        del mapping[next(iter(mapping))]


def apply_event(state: SessionState, event: BehaviourEvent) -> SessionState:
    """The state after `event` (a new object; the input is left alone). An event already applied (its id
    among `applied`) changes nothing, so impression counts too are safe to apply twice."""
    new = SessionState.from_json(state.as_json())
    if event.event_id in new.applied:
        return new
    new.applied = [*new.applied, event.event_id][-MAX_APPLIED_IDS:]
    at = event.timestamp.timestamp()
    item = event.item_id
    kind = event.event_type
    if kind in INTEREST_EVENTS and item is not None:
        new.recent = [(i, t) for i, t in new.recent if i != item] + [(item, at)]
        new.recent.sort(key=lambda pair: pair[1])
        new.recent = new.recent[-MAX_RECENT:]
        new.impressions.pop(item, None)  # engaged with: no fatigue
        new.not_interested.pop(item, None)  # the user came back to it
        if kind in ("purchase", "rating"):
            new.excluded[item] = kind
        elif kind == "add_to_cart" and new.excluded.get(item) is None:
            new.excluded[item] = "cart"
    elif kind == "remove_from_cart" and item is not None and new.excluded.get(item) == "cart":
        del new.excluded[item]
    elif kind == "not_interested" and item is not None:
        new.not_interested[item] = at
        new.recent = [(i, t) for i, t in new.recent if i != item]
    elif kind == "impression":
        for shown in event.item_ids or []:
            count, _ = new.impressions.pop(shown, (0, at))
            new.impressions[shown] = (count + 1, at)
    for mapping in (new.excluded, new.not_interested, new.impressions):
        _bounded(mapping)
    new.updated_at = max(new.updated_at, at)
    return new


def session_weights(state: SessionState, now: float) -> list[tuple[str, float]]:
    """The session's items, oldest first, each with its time decay (1 now, 1/2 after SESSION_HALF_LIFE)."""
    return [(item, 0.5 ** (max(0.0, now - at) / SESSION_HALF_LIFE)) for item, at in state.recent]


def fatigue(state: SessionState, item: str, now: float) -> float:
    """The share of an item's score kept after its unclicked impressions (1: none)."""
    seen = state.impressions.get(item)
    if seen is None:
        return 1.0
    count, last = seen
    penalty = min(FATIGUE_MAX, FATIGUE_PER_IMPRESSION * count) * 0.5 ** (max(0.0, now - last) / FATIGUE_HALF_LIFE)
    return 1.0 - penalty


def ttl(state: SessionState) -> int:
    return math.ceil(state.updated_at) + SESSION_TTL_DAYS * 86_400

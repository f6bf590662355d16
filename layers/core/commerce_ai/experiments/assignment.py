"""Deterministic, sticky assignment of users to arms, with the fewest moves when weights change.

Each user has a fixed point on a line of `SCALE` slots: the first 8 bytes of
sha256("<experiment>\\0<user id>") scaled to 0..SCALE-1. Nothing is stored per user; the same user in the
same experiment always lands on the same point. The experiment's *layout* splits the line into segments,
each owned by one arm, and a user gets the arm whose segment holds their point.

A weight change re-lays the line in place (`rebalance`): every arm whose share shrinks gives up slots
(from its highest segments), and every arm whose share grows takes exactly those freed slots; the slots
of arms whose share did not change are not touched. So:
- a user moves only from an arm that shrank to an arm that grew, never between two unchanged arms;
- the share of users that move is the total variation distance between the old and the new traffic
  split, sum over arms of max(0, old share - new share). No assignment can move fewer: an arm that
  shrinks from p to p' must lose at least p - p' of all users. That is what "as few as possible" means.
(Shares are whole slots of SCALE, apportioned by largest remainder, so a share is exact to 1e-6.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

SCALE = 1_000_000  # slots on the line: traffic shares are exact to one in a million

Segment = tuple[int, int, str]  # [start, end) slots owned by an arm


def user_point(experiment: str, user_id: str) -> int:
    """The user's fixed slot in this experiment, 0..SCALE-1 (uniform over users)."""
    digest = hashlib.sha256(f"{experiment}\0{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") * SCALE >> 64


def slot_targets(weights: Mapping[str, float]) -> dict[str, int]:
    """Each arm's number of slots: its weight's share of SCALE, whole slots by largest remainder (ties
    by arm name, so the result depends only on the weights)."""
    total = sum(weights.values())
    if total <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("weights must be non-negative with a positive sum")
    exact = {arm: w * SCALE / total for arm, w in weights.items()}
    slots = {arm: int(value) for arm, value in exact.items()}
    left = SCALE - sum(slots.values())
    by_remainder = sorted(exact, key=lambda arm: (-(exact[arm] - slots[arm]), arm))
    for arm in by_remainder[:left]:
        slots[arm] += 1
    return slots


def initial_layout(weights: Mapping[str, float]) -> list[Segment]:
    """The first layout: arms side by side in the order given."""
    return rebalance([], weights)


def rebalance(layout: Sequence[Segment], weights: Mapping[str, float]) -> list[Segment]:
    """A layout with each arm's slots as `weights` say, moving as few slots as possible (module docstring).

    Arms missing from `weights` give up all their slots. Shrinking arms give up their highest slots first,
    and freed slots go to growing arms lowest first (arms in the order of `weights`), so a layout stays a
    handful of segments after many changes."""
    targets = slot_targets(weights)
    held: dict[str, int] = {}
    for start, end, arm in layout:
        held[arm] = held.get(arm, 0) + end - start
    if layout and sum(held.values()) != SCALE:
        raise ValueError("a layout must cover every slot exactly once")
    excess = {arm: held[arm] - targets.get(arm, 0) for arm in held if held[arm] > targets.get(arm, 0)}
    kept: list[Segment] = []
    freed: list[tuple[int, int]] = [] if layout else [(0, SCALE)]
    for start, end, arm in sorted(layout, key=lambda s: -s[0]):  # highest first
        give = min(excess.get(arm, 0), end - start)
        if give:
            excess[arm] -= give
            freed.append((end - give, end))
        if end - give > start:
            kept.append((start, end - give, arm))
    need = {arm: targets[arm] - held.get(arm, 0) for arm in weights if targets[arm] > held.get(arm, 0)}
    freed.sort()
    for arm, count in need.items():
        while count:
            start, end = freed.pop(0)
            take = min(count, end - start)
            kept.append((start, start + take, arm))
            count -= take
            if start + take < end:
                freed.insert(0, (start + take, end))
    assert not freed, "freed slots are exactly the slots the growing arms need"
    return _merged(kept)


def _merged(segments: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for start, end, arm in sorted(segments):
        if merged and merged[-1][1] == start and merged[-1][2] == arm:
            merged[-1] = (merged[-1][0], end, arm)
        else:
            merged.append((start, end, arm))
    return merged


def arm_at(layout: Sequence[Segment], point: int) -> str:
    """The arm owning `point` (layouts are short and sorted: a bisect would not pay)."""
    for start, end, arm in layout:
        if start <= point < end:
            return arm
    raise ValueError(f"slot {point} is outside the layout")

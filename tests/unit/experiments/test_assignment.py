"""Assignment: deterministic, sticky, shares as weighted, and the fewest possible moves on a change."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.experiments import assignment
from commerce_ai.experiments.assignment import SCALE, Segment, arm_at, rebalance, slot_targets, user_point

ARMS = ["a", "b", "c", "d"]


def sizes(layout: Sequence[Segment]) -> dict[str, int]:
    held: Counter[str] = Counter()
    for start, end, arm in layout:
        held[arm] += end - start
    return dict(held)


def covers_the_line(layout: Sequence[Segment]) -> bool:
    return [s for s, _, _ in layout] == [0, *[e for _, e, _ in layout[:-1]]] and layout[-1][1] == SCALE


def moved_slots(old: Sequence[Segment], new: Sequence[Segment]) -> dict[tuple[str, str], int]:
    """(from arm, to arm) -> how many slots changed owner, computed exactly over the segment boundaries."""
    cuts = sorted({0, SCALE, *(s for s, _, _ in old), *(s for s, _, _ in new)})
    moves: Counter[tuple[str, str]] = Counter()
    for start, end in itertools.pairwise(cuts):
        before, after = arm_at(old, start), arm_at(new, start)
        if before != after:
            moves[(before, after)] += end - start
    return dict(moves)


def test_a_user_always_gets_the_same_point_and_arm() -> None:
    layout = assignment.initial_layout({"a": 1, "b": 1})
    first = [arm_at(layout, user_point("exp", f"user-{i}")) for i in range(200)]
    again = [arm_at(layout, user_point("exp", f"user-{i}")) for i in range(200)]
    assert first == again
    assert user_point("exp", "u-1") != user_point("other-exp", "u-1")  # experiments are independent


def test_shares_follow_the_weights() -> None:
    layout = assignment.initial_layout({"a": 70, "b": 20, "c": 10})
    seen = Counter(arm_at(layout, user_point("exp", f"user-{i}")) for i in range(20_000))
    # binomial standard deviation at n = 20,000 is at most 0.35 percentage points; allow 4 of them
    assert abs(seen["a"] / 20_000 - 0.7) < 0.014
    assert abs(seen["b"] / 20_000 - 0.2) < 0.014
    assert abs(seen["c"] / 20_000 - 0.1) < 0.014


def test_slot_targets_are_exact_whole_slots() -> None:
    assert slot_targets({"a": 1, "b": 1, "c": 1}) == {"a": 333_334, "b": 333_333, "c": 333_333}
    assert sum(slot_targets({"a": 0.3, "b": 0.7}).values()) == SCALE
    assert slot_targets({"a": 0, "b": 5}) == {"a": 0, "b": SCALE}


weights = st.dictionaries(st.sampled_from(ARMS), st.integers(0, 100), min_size=1).filter(lambda w: sum(w.values()) > 0)


@given(old=weights, new=weights)
def test_a_weight_change_moves_only_what_it_must(old: dict[str, int], new: dict[str, int]) -> None:
    # Given a layout for the old weights, when the weights change,
    before = assignment.initial_layout(old)
    after = rebalance(before, new)
    # then every arm holds exactly its new share, on one contiguous line without gaps,
    assert covers_the_line(after)
    targets = slot_targets(new)
    assert {arm: n for arm, n in sizes(after).items() if n} == {arm: n for arm, n in targets.items() if n}
    # users move only from an arm that shrank to an arm that grew (never between unchanged arms),
    held = {arm: sizes(before).get(arm, 0) for arm in set(old) | set(new)}
    moves = moved_slots(before, after)
    for source, target in moves:
        assert targets.get(source, 0) < held[source], f"{source} did not shrink but lost users"
        assert targets.get(target, 0) > held[target], f"{target} did not grow but gained users"
    # and the share that moves is the total variation distance, the least any assignment can move.
    least = sum(max(0, held[arm] - targets.get(arm, 0)) for arm in held)
    assert sum(moves.values()) == least


@given(st.lists(weights, min_size=2, max_size=12))
def test_many_changes_keep_the_layout_small_and_exact(history: list[dict[str, int]]) -> None:
    layout = assignment.initial_layout(history[0])
    for step in history[1:]:
        previous = layout
        layout = rebalance(layout, step)
        assert covers_the_line(layout)
        moved = sum(moved_slots(previous, layout).values())
        held = sizes(previous)
        targets = slot_targets(step)
        assert moved == sum(max(0, n - targets.get(arm, 0)) for arm, n in held.items())
    assert len(layout) <= 2 * len(ARMS) * len(history)


def test_unchanged_weights_move_nobody() -> None:
    layout = assignment.initial_layout({"a": 3, "b": 1})
    assert rebalance(layout, {"a": 3, "b": 1}) == layout
    assert rebalance(layout, {"a": 6, "b": 2}) == layout  # the same shares


def test_sampled_users_move_as_the_layout_says() -> None:
    before = assignment.initial_layout({"a": 50, "b": 50})
    after = rebalance(before, {"a": 50, "b": 40, "c": 10})  # c takes 10% from b, a keeps all its users
    users = [f"user-{i}" for i in range(5_000)]
    moves = Counter(
        (arm_at(before, user_point("e", u)), arm_at(after, user_point("e", u)))
        for u in users
        if arm_at(before, user_point("e", u)) != arm_at(after, user_point("e", u))
    )
    assert set(moves) == {("b", "c")}
    assert abs(moves[("b", "c")] / len(users) - 0.10) < 0.02

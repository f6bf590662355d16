"""MMR and exploration slots."""

from __future__ import annotations

import numpy as np

from commerce_ai.recommendations.rerank import exploration_slots, mmr, under_exposed


def test_mmr_with_lambda_one_keeps_the_ranked_order() -> None:
    relevance = np.array([0.9, 0.8, 0.7, 0.1])
    vectors = np.eye(4)
    assert mmr(relevance, vectors, 3, weight=1.0) == [0, 1, 2]


def test_mmr_trades_a_little_relevance_for_another_category() -> None:
    relevance = np.array([1.0, 0.95, 0.9, 0.85, 0.0])
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # three alike, then others
    picked = mmr(relevance, vectors, 2, weight=0.8)
    assert picked == [0, 3]


def test_mmr_handles_empty_and_short_lists() -> None:
    assert mmr(np.zeros(0), np.zeros((0, 2)), 5) == []
    assert mmr(np.array([0.5, 0.5]), np.eye(2), 5) == [0, 1]


def test_one_slot_in_ten_explores() -> None:
    assert [exploration_slots(n) for n in (1, 9, 10, 25, 100)] == [0, 0, 1, 2, 10]


def test_under_exposed_items_are_the_least_popular_share() -> None:
    popularity = np.arange(10, dtype=float)
    assert under_exposed(popularity, 0.2).tolist() == [True, True] + [False] * 8

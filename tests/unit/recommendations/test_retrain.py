"""The daily retrain's champion/challenger rule: activate a challenger only if it beats the champion on the
same validation items (HR@10, then NDCG@10), or if there is no champion to beat."""

from __future__ import annotations

from commerce_ai.erasure import user_hash
from model_build.recommendations.protocol import Scores
from model_build.recommendations.retrain import decide, without_erased


def scores(hr: float, ndcg: float) -> Scores:
    return Scores(hr=hr, ndcg=ndcg, hr_ci=(hr, hr), ndcg_ci=(ndcg, ndcg), coverage=0.3, diversity=0.7, users=943)


def test_without_a_champion_the_challenger_is_activated() -> None:
    verdict = decide(scores(0.01, 0.005), None)
    assert verdict.activate and verdict.reason == "no champion to beat"


def test_a_challenger_with_a_higher_hit_rate_beats_the_champion() -> None:
    verdict = decide(scores(0.180, 0.080), scores(0.171, 0.088))
    assert verdict.activate and "beats it" in verdict.reason


def test_a_challenger_that_is_not_better_stays_a_candidate() -> None:
    assert not decide(scores(0.170, 0.095), scores(0.171, 0.088)).activate  # lower HR@10: NDCG does not matter
    assert not decide(scores(0.171, 0.088), scores(0.171, 0.088)).activate  # a tie is not a win
    verdict = decide(scores(0.150, 0.070), scores(0.171, 0.088))
    assert "does not beat it" in verdict.reason and "0.1500" in verdict.reason and "0.1710" in verdict.reason


def test_an_equal_hit_rate_is_decided_by_ndcg() -> None:
    assert decide(scores(0.171, 0.090), scores(0.171, 0.088)).activate
    assert not decide(scores(0.171, 0.087), scores(0.171, 0.088)).activate


def test_an_erased_users_archived_events_are_left_out() -> None:
    records = [
        {"user_id": "u-1", "item_id": "a"},
        {"user_id": "u-2", "item_id": "b"},
        {"user_id": "u-1", "item_id": "c"},
    ]
    kept = list(without_erased(records, frozenset({user_hash("u-1")})))
    assert kept == [{"user_id": "u-2", "item_id": "b"}]

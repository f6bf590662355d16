"""Rules before and after the model, the score's band, how they combine, and the reasons given."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from commerce_ai.risk.decisions import (
    SEVERITY,
    Outcome,
    RuleConfig,
    RuleHit,
    Thresholds,
    combine,
    post_model_rules,
    pre_model_rules,
    reasons,
)

RULES = RuleConfig()
QUIET = {
    "device_payments_1h": 0.0,
    "device_small_payments_1h": 0.0,
    "session_speed_kmh": 0.0,
    "session_new_device": 0.0,
    "user_account_changes_24h": 0.0,
    "device_new_for_user": 0.0,
}


def names(hits: list[RuleHit]) -> list[str]:
    return [h.name for h in hits]


# ------------------------------------------------------------------------------------ pre-model rules


def test_an_ordinary_payment_fires_no_pre_model_rule() -> None:
    assert pre_model_rules(120.0, {}, RULES) == []


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (4_999.99, []),
        (5_000.0, [("amount_review_limit", "review")]),
        (20_000.0, [("amount_review_limit", "review")]),
        (20_000.01, [("amount_hard_limit", "decline")]),  # the hard limit replaces the review limit
    ],
)
def test_amount_limits(amount: float, expected: list[tuple[str, str]]) -> None:
    assert [(h.name, h.outcome) for h in pre_model_rules(amount, {}, RULES)] == expected


def test_each_blocked_entity_declines_with_the_admins_reason() -> None:
    hits = pre_model_rules(10.0, {"user": "chargebacks", "merchant": "breach"}, RULES)
    assert [(h.name, h.outcome) for h in hits] == [("blocklist_user", "decline"), ("blocklist_merchant", "decline")]
    assert "chargebacks" in hits[0].detail and "breach" in hits[1].detail


def test_amount_limits_follow_the_configuration() -> None:
    config = RuleConfig(decline_amount=1_000.0, review_amount=100.0)
    assert names(pre_model_rules(100.0, {}, config)) == ["amount_review_limit"]
    assert names(pre_model_rules(1_000.5, {}, config)) == ["amount_hard_limit"]


# ----------------------------------------------------------------------------------- post-model rules


def test_quiet_features_fire_no_post_model_rule() -> None:
    assert post_model_rules(3.0, QUIET, RULES) == []


@pytest.mark.parametrize(
    ("small_payments_1h", "amount", "fires"),
    [
        (6.0, 1.0, False),  # this payment makes 7 small ones in the hour: not yet a burst
        (7.0, 1.0, True),  # 8 with this one
        (7.0, 5.0, True),  # at the per-payment ceiling
        (7.0, 5.01, False),  # above it: this payment is not card testing
        (30.0, 0.5, True),
    ],
)
def test_card_testing_burst(small_payments_1h: float, amount: float, fires: bool) -> None:
    """README: "8 or more payments of at most 5.00 from one device within an hour: decline"."""
    hits = post_model_rules(amount, {**QUIET, "device_small_payments_1h": small_payments_1h}, RULES)
    assert names(hits) == (["card_testing_burst"] if fires else [])
    if fires:
        assert hits[0].outcome == "decline"
        assert hits[0].detail == (
            f"{int(small_payments_1h) + 1} payments of 5 or less from this device within an hour, this one included"
        )


def test_large_payments_from_the_device_do_not_count_towards_a_burst() -> None:
    # Many payments from the device, but only three small ones: the rule's sentence would be false.
    features = {**QUIET, "device_payments_1h": 30.0, "device_small_payments_1h": 3.0}
    assert post_model_rules(0.001, features, RULES) == []


@pytest.mark.parametrize(
    ("speed", "new_device", "fires"),
    [
        (999.9, 1.0, False),
        (1_000.0, 1.0, True),
        (5_000.0, 1.0, True),
        (5_000.0, 0.0, False),  # a known device: travel alone is not enough
    ],
)
def test_impossible_travel_on_a_new_device(speed: float, new_device: float, fires: bool) -> None:
    features = {**QUIET, "session_speed_kmh": speed, "session_new_device": new_device}
    hits = post_model_rules(250.0, features, RULES)
    assert names(hits) == (["impossible_travel_new_device"] if fires else [])
    if fires:
        assert hits[0].outcome == "review"
        assert f"{speed:.0f} km/h" in hits[0].detail


def test_every_post_model_rule_can_fire_together() -> None:
    features = {
        "device_payments_1h": 9.0,
        "device_small_payments_1h": 9.0,
        "session_speed_kmh": 3_000.0,
        "session_new_device": 1.0,
        "user_account_changes_24h": 1.0,
        "device_new_for_user": 1.0,
    }
    assert names(post_model_rules(1.0, features, RULES)) == [
        "card_testing_burst",
        "impossible_travel_new_device",
        "account_change_then_new_device",
    ]


def test_rule_configuration_is_validated() -> None:
    with pytest.raises(ValidationError):
        RuleConfig(card_testing_payments_1h=1)
    with pytest.raises(ValidationError):
        RuleConfig(decline_amount=0)
    with pytest.raises(ValidationError):
        RuleConfig.model_validate({"unknown_rule": 1})
    with pytest.raises(ValidationError):
        Thresholds(review=0.5, decline=1.5)


# ------------------------------------------------------------------------------- score band, combine


@pytest.mark.parametrize(
    ("score", "outcome"),
    [(0.0, "approve"), (0.299, "approve"), (0.3, "review"), (0.799, "review"), (0.8, "decline"), (1.0, "decline")],
)
def test_threshold_bands_include_their_lower_bound(score: float, outcome: Outcome) -> None:
    assert Thresholds(review=0.3, decline=0.8).outcome(score) == outcome


def test_the_most_severe_outcome_wins() -> None:
    review = RuleHit("r", "review", "")
    decline = RuleHit("d", "decline", "")
    assert combine("approve", []) == "approve"
    assert combine("approve", [review]) == "review"
    assert combine("review", [review]) == "review"
    assert combine("approve", [review, decline]) == "decline"
    assert combine("decline", [review]) == "decline"  # a milder rule never softens the score's band


OUTCOMES: list[Outcome] = ["approve", "review", "decline"]


@given(score=st.sampled_from(OUTCOMES), rules=st.lists(st.sampled_from(OUTCOMES), max_size=5))
def test_combine_is_the_maximum_severity(score: Outcome, rules: list[Outcome]) -> None:
    outcome = combine(score, [RuleHit(f"r{i}", o, "") for i, o in enumerate(rules)])
    assert SEVERITY[outcome] == max(SEVERITY[o] for o in [score, *rules])


# ------------------------------------------------------------------------------------------- reasons


def test_reasons_list_rules_first_then_features_rounded() -> None:
    hits = [RuleHit("amount_review_limit", "review", "amount at or above 5000")]
    top = [("amount_log", 9.123456789, 0.2500004), ("speed_kmh", 4000.0, 0.1)]
    assert reasons(hits, top) == [
        {"type": "rule", "name": "amount_review_limit", "outcome": "review", "detail": "amount at or above 5000"},
        {"type": "feature", "name": "amount_log", "value": 9.1235, "contribution": 0.25},
        {"type": "feature", "name": "speed_kmh", "value": 4000.0, "contribution": 0.1},
    ]
    assert reasons([], []) == []


@pytest.mark.parametrize(("changes", "new_device", "fires"), [(1.0, 1.0, True), (0.0, 1.0, False), (2.0, 0.0, False)])
def test_an_account_change_with_a_new_device(changes: float, new_device: float, fires: bool) -> None:
    features = {**QUIET, "user_account_changes_24h": changes, "device_new_for_user": new_device}
    hits = post_model_rules(40.0, features, RULES)
    assert names(hits) == (["account_change_then_new_device"] if fires else [])
    assert all(h.outcome == "review" for h in hits)

"""Training-side pieces serving depends on: thresholds that keep the false-positive budget, the time split,
and graph snapshots that only know what the weekly job would have known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commerce_ai.risk.decisions import RuleConfig
from commerce_ai.risk.features import FEATURE_NAMES, RULE_SIGNALS
from model_build.risk.dataset import Dataset, snapshot_at
from model_build.risk.train import MAX_FPR, choose_thresholds, split, threshold_at_fpr
from tests.unit.risk.builders import DAY, T0


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, fraud labels and the payments the rules flag anyway, with many ties (width-32 floats
    from a small set)."""
    n = draw(st.integers(1, 80))
    score = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]) | st.floats(0, 1)
    scores = np.array(draw(st.lists(score, min_size=n, max_size=n)))
    is_fraud = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    flagged = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return scores, is_fraud, flagged


def genuine_flagged(scores: np.ndarray, is_fraud: np.ndarray, threshold: float) -> int:
    return int((scores[~is_fraud] >= threshold).sum())


@given(data=labelled_scores(), fpr=st.floats(0.0, 1.0))
def test_threshold_keeps_the_false_positive_rate_within_the_target(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], fpr: float
) -> None:
    scores, is_fraud, _ = data
    n = int((~is_fraud).sum())
    threshold = threshold_at_fpr(scores, is_fraud, fpr)
    flagged = genuine_flagged(scores, is_fraud, threshold)
    # then at most fpr of the genuine scores are at or above the threshold
    assert flagged <= fpr * n
    # and it is the lowest such threshold: the next genuine score below it would exceed the budget
    below = scores[~is_fraud][scores[~is_fraud] < threshold]
    if below.size:
        assert genuine_flagged(scores, is_fraud, float(below.max())) > fpr * n


@given(data=labelled_scores(), fpr=st.floats(0.0, 0.5))
def test_payments_the_rules_flag_use_up_the_budget(data: tuple[np.ndarray, np.ndarray, np.ndarray], fpr: float) -> None:
    scores, is_fraud, rules = data
    genuine = ~is_fraud
    n, spent = int(genuine.sum()), int((rules & genuine).sum())
    threshold = threshold_at_fpr(scores, is_fraud, fpr, flagged_anyway=rules)
    # then the genuine payments the score adds to those the rules flag stay within what the budget leaves
    added = int(((scores >= threshold) & genuine & ~rules).sum())
    assert added == 0 or spent + added <= fpr * n


@settings(max_examples=30)  # scipy's beta quantiles are slow
@given(data=labelled_scores(), fpr=st.floats(0.0, 0.49))
def test_a_confidence_bound_only_makes_the_threshold_stricter(
    data: tuple[np.ndarray, np.ndarray, np.ndarray], fpr: float
) -> None:
    scores, is_fraud, _ = data
    assume((~is_fraud).sum() >= 2)  # one genuine payment is the bug in the next test
    plain = threshold_at_fpr(scores, is_fraud, fpr)
    confident = threshold_at_fpr(scores, is_fraud, fpr, confidence=0.9)
    assert genuine_flagged(scores, is_fraud, confident) <= genuine_flagged(scores, is_fraud, plain)


def test_threshold_edges() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.9])
    is_fraud = np.array([False, False, False, True])
    # a zero budget flags no genuine payment, a full one flags everything
    assert threshold_at_fpr(scores, is_fraud, 0.0) > 0.3
    assert threshold_at_fpr(scores, is_fraud, 1.0) == 0.0
    # a third of three genuine: the highest one only
    assert genuine_flagged(scores, is_fraud, threshold_at_fpr(scores, is_fraud, 1 / 3)) == 1


@pytest.mark.parametrize(
    ("scores", "is_fraud", "rules"),
    [
        ([0.2, 0.95], [False, True], [False, False]),  # a single genuine payment
        ([0.2, 0.1, 0.3, 0.95], [False, False, False, True], [True, False, True, False]),  # rules flag 2 of 3
    ],
    ids=["one-genuine", "rules-flag-all-but-one"],
)
def test_a_confidence_bound_never_flags_every_genuine_payment(
    scores: list[float], is_fraud: list[bool], rules: list[bool]
) -> None:
    threshold = threshold_at_fpr(np.array(scores), np.array(is_fraud), MAX_FPR, np.array(rules), confidence=0.9)
    genuine_scores = [s for s, f, r in zip(scores, is_fraud, rules, strict=True) if not f and not r]
    assert threshold > max(genuine_scores)


def validation_set(n_genuine: int, big_genuine: int, seed: int = 0) -> tuple[np.ndarray, Dataset]:
    """Validation payments with their model scores: genuine ones score below 0.5 and `big_genuine` of them
    are large enough for the review rule; the fraud scores high."""
    rng = np.random.default_rng(seed)
    n_fraud = 50
    n = n_genuine + n_fraud
    amounts = np.full(n, 40.0)
    amounts[:big_genuine] = 6_000.0
    is_fraud = np.arange(n) >= n_genuine
    scores = np.where(is_fraud, rng.uniform(0.8, 1.0, n), rng.uniform(0.0, 0.5, n))
    scores[:big_genuine] = 0.01  # the model is not worried by these customers' big purchases
    data = Dataset(
        features=np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32),
        is_fraud=is_fraud,
        scenario=np.where(is_fraud, "amount_outlier", "legit").astype(object),
        time=T0 + np.arange(n, dtype=np.float64),
        payments=pd.DataFrame({"amount": amounts}),
        rule_signals=np.zeros((n, len(RULE_SIGNALS)), dtype=np.float32),
    )
    return scores, data


def test_chosen_thresholds_keep_genuine_payments_within_the_budget() -> None:
    scores, data = validation_set(10_000, big_genuine=5)
    thresholds = choose_thresholds(scores, data, RuleConfig())
    genuine = ~data.is_fraud
    not_approved = (scores >= min(thresholds.review, thresholds.decline)) | (data.payments["amount"] >= 5_000)
    assert (not_approved & genuine).sum() <= MAX_FPR * genuine.sum()
    assert thresholds.review <= thresholds.decline


def test_the_decline_threshold_is_never_below_the_review_threshold() -> None:
    # Given 22 genuine big purchases the review rule flags: all the review budget allows at 90% confidence
    # over 10,000 genuine payments
    scores, data = validation_set(10_000, big_genuine=22)
    thresholds = choose_thresholds(scores, data, RuleConfig())
    genuine = ~data.is_fraud
    declined_by_score = (scores >= thresholds.decline) & genuine
    # then the score declines no genuine payment the review threshold would have let through
    assert thresholds.review <= thresholds.decline
    assert int(declined_by_score.sum()) == 0


# ------------------------------------------------------------------------------------------------ split


def test_split_is_in_time_order_and_the_warmup_trains() -> None:
    # Given one payment an hour over 20 days
    times = T0 + np.arange(0, 20 * DAY, 3600.0)
    n = len(times)
    data = Dataset(
        features=np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32),
        is_fraud=np.zeros(n, dtype=bool),
        scenario=np.array(["legit"] * n, dtype=object),
        time=times,
        payments=pd.DataFrame({"transaction_id": [f"t{i}" for i in range(n)]}),
        rule_signals=np.zeros((n, len(RULE_SIGNALS)), dtype=np.float32),
    )
    parts = split(data, T0, days=20, warmup_days=4)
    # then the 384 hours after the warm-up are split 60/15/25 in time order (hours 0-230.4, 230.4-288 and
    # 288-384 of them), and the warm-up's 96 hours train too (its new, genuine customers)
    assert parts.train.time.min() == T0
    assert parts.train.time.max() < parts.validation.time.min()
    assert parts.validation.time.max() < parts.holdout.time.min()
    sizes = [len(p.time) for p in (parts.train, parts.validation, parts.holdout)]
    assert sizes == [4 * 24 + 231, 57, 96]
    assert parts.validation.payments["transaction_id"].iloc[0] == f"t{sizes[0]}"


# ------------------------------------------------------------------------------------------- snapshots


def test_a_snapshot_knows_only_earlier_payments_and_labels_known_by_then() -> None:
    # Given u1 and u2 share a device; u2's fraud was on day 1, u3's on day 6; a payment after the cutoff
    payments = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "device_id": ["d1", "d1", "d3", "d1"],
            "ip": ["i1", "i2", "i3", "i4"],
            "merchant_id": ["m1", "m1", "m1", "m1"],
            "is_fraud": [False, True, True, False],
        }
    )
    times = np.array([T0, T0 + 1 * DAY, T0 + 6 * DAY, T0 + 8 * DAY])
    # when the snapshot is built on day 7 with labels arriving 3 days after the payment
    graph = snapshot_at(payments, times, T0 + 7 * DAY, 3 * DAY)
    # then it has the three earlier payments, and only u2's fraud is known
    assert graph.payments == 3
    assert "u4" not in graph.users
    assert graph.devices["d1"][0] == 2.0
    assert graph.users["u1"][1] == 1.0  # u1's only neighbour, u2, had known fraud
    assert graph.merchants["m1"] == round(1 / (3 + 5.0), 4)
    assert graph.devices["d3"] == (1.0, 0.0)  # u3's fraud is not known yet

"""The FAQ matcher's thresholds are what the training-side tuning chooses (never the held-out queries)."""

from __future__ import annotations

from commerce_ai.support.faq import BM25_MIN, SEMANTIC_MIN, FaqIndex, decide
from model_build.support.faq_tuning import choose
from model_build.support.seeding import faq_entries


def test_the_served_thresholds_are_the_ones_the_training_side_chooses(faq_index: FaqIndex) -> None:
    tuning = choose(faq_entries())
    assert (tuning.semantic_min, tuning.bm25_min) == (SEMANTIC_MIN, BM25_MIN)
    assert tuning.accuracy >= tuning.accuracy_semantic_only  # the fallback does not hurt on training


def test_bm25_confirms_a_weak_semantic_match_but_never_overrules_it() -> None:
    assert decide(3, 0.9, 5, 99.0, 0.47, 4.0) == (3, "semantic")
    assert decide(3, 0.40, 3, 4.5, 0.47, 4.0) == (3, "bm25")
    assert decide(3, 0.40, 5, 9.0, 0.47, 4.0) is None  # BM25's entry disagrees: no answer
    assert decide(3, 0.40, 3, 3.9, 0.47, 4.0) is None
    assert decide(3, 0.40, 3, 9.0, 0.47, None) is None  # no fallback

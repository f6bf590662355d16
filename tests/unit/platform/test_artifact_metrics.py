from __future__ import annotations

from commerce_ai.artifacts.metrics import direction, regressions


def test_direction_comes_from_the_name_of_a_holdout_metric() -> None:
    assert direction("holdout_wape_lightgbm") == "lower"
    assert direction("holdout_pr_auc") == "higher"
    assert direction("champion_holdout_pr_auc") is None  # not the version's own holdout figure
    assert direction("rows") is None
    assert direction("holdout_mystery") is None


def test_only_worse_quality_metrics_that_both_versions_record_are_regressions() -> None:
    active = {"holdout_pr_auc": 0.80, "holdout_wape_lightgbm": 0.44, "rows": 100.0, "holdout_recall": 0.5}
    candidate = {"holdout_pr_auc": 0.75, "holdout_wape_lightgbm": 0.40, "rows": 5.0, "holdout_brier": 0.1}
    worse = regressions(candidate, active)
    assert [r.metric for r in worse] == ["holdout_pr_auc"]
    assert worse[0].describe() == "holdout_pr_auc 0.75 against 0.8 (higher is better)"
    assert regressions(active, active) == []

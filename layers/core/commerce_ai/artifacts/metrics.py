"""Which of a version's recorded metrics are worse than the active version's.

Manifests record metrics by name (`holdout_pr_auc`, `holdout_wape_lightgbm`...). Only holdout figures
judge quality, and a name says which way is better: error-like names (WAPE, MASE, loss, Brier, FPR...) are
better lower, score-like names (AUC, recall, HR, NDCG...) better higher. Counts such as `rows` or
`labelled_fraud` judge nothing and are never compared; neither is a name whose direction is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

QUALITY_PREFIX = "holdout_"
LOWER_IS_BETTER = ("wape", "mase", "mae", "rmse", "loss", "brier", "error", "fpr", "pinball")
HIGHER_IS_BETTER = ("auc", "recall", "precision", "accuracy", "hr", "ndcg", "coverage", "lift", "f1")


@dataclass(frozen=True)
class Regression:
    """One metric on which a version does worse than the one it would replace."""

    metric: str
    candidate: float
    active: float
    better: str  # "lower" or "higher"

    def describe(self) -> str:
        return f"{self.metric} {self.candidate:g} against {self.active:g} ({self.better} is better)"


def direction(metric: str) -> str | None:
    """'lower' or 'higher' for a holdout quality metric, None for anything that is not one."""
    if not metric.startswith(QUALITY_PREFIX):
        return None
    words = metric[len(QUALITY_PREFIX) :].split("_")
    if any(word in LOWER_IS_BETTER for word in words):
        return "lower"
    if any(word in HIGHER_IS_BETTER for word in words):
        return "higher"
    return None


def regressions(candidate: Mapping[str, float], active: Mapping[str, float]) -> list[Regression]:
    """The quality metrics both versions record on which `candidate` is worse, in name order."""
    worse = []
    for metric in sorted(set(candidate) & set(active)):
        better = direction(metric)
        new, old = candidate[metric], active[metric]
        if better is None or not (math.isfinite(new) and math.isfinite(old)):
            continue
        if (better == "lower" and new > old) or (better == "higher" and new < old):
            worse.append(Regression(metric, new, old, better))
    return worse

"""Train the served intent model: the shared sentence encoder (`commerce_ai.support.encoder`), then
multinomial logistic regression (scikit-learn, training side only) as the head, exported as numbers.

Validation is 5-fold cross-validation over the augmented training split, grouped by authored line (a
line's typo and politeness copies never sit on both sides of a fold). It picks the head's `C` (the grid
`C_GRID`, by out-of-fold accuracy) and then the confidence threshold: the value on a 0.00-0.90 grid that
maximizes out-of-fold accuracy once answers below it become `out_of_scope` (ties: the lowest). The test
split plays no part in either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from commerce_ai.support import encoder
from commerce_ai.support.intents import OUT_OF_SCOPE, IntentModel
from model_build.support.data import Utterance

C_GRID = (1.0, 5.0, 20.0, 50.0)
FOLDS = 5
THRESHOLDS = np.round(np.arange(0.0, 0.91, 0.01), 2)


@dataclass(frozen=True)
class Fitted:
    model: IntentModel
    c: float
    validation_accuracy: float  # out-of-fold, at the chosen C and threshold
    validation_accuracy_no_threshold: float
    rows: int


def fit_head(vectors: np.ndarray, labels: list[str], c: float, threshold: float) -> IntentModel:
    from sklearn.linear_model import LogisticRegression

    head = LogisticRegression(C=c, max_iter=3000).fit(vectors, labels)
    return IntentModel(
        classes=[str(k) for k in head.classes_],
        coef=np.asarray(head.coef_, dtype=np.float64),
        intercept=np.asarray(head.intercept_, dtype=np.float64),
        threshold=threshold,
    )


def thresholded(classes: list[str], probabilities: np.ndarray, threshold: float) -> np.ndarray:
    best = probabilities.argmax(axis=1)
    confident = probabilities[np.arange(len(best)), best] >= threshold
    return np.where(confident, np.array(classes)[best], OUT_OF_SCOPE)


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, groups: list[int], c: float) -> tuple[list[str], np.ndarray]:
    from sklearn.model_selection import GroupKFold

    probabilities: np.ndarray | None = None
    classes: list[str] = []
    for train_rows, valid_rows in GroupKFold(n_splits=FOLDS).split(vectors, labels, groups):
        model = fit_head(vectors[train_rows], list(labels[train_rows]), c, 0.0)
        classes = model.classes
        if probabilities is None:
            probabilities = np.zeros((len(labels), len(classes)))
        probabilities[valid_rows] = model.probabilities_of(vectors[valid_rows])
    assert probabilities is not None
    return classes, probabilities


def train(utterances: list[Utterance], vectors: np.ndarray | None = None) -> Fitted:
    if vectors is None:
        vectors = encoder.embed([u.text for u in utterances])
    labels = np.array([u.intent for u in utterances])
    groups = [u.group for u in utterances]
    best: tuple[float, float, float, float] | None = None  # (accuracy, -threshold, c, plain accuracy)
    for c in C_GRID:
        classes, probabilities = out_of_fold(vectors, labels, groups, c)
        for threshold in THRESHOLDS:
            accuracy = float(np.mean(thresholded(classes, probabilities, float(threshold)) == labels))
            plain = float(np.mean(thresholded(classes, probabilities, 0.0) == labels))
            candidate = (accuracy, -float(threshold), c, plain)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
    assert best is not None
    accuracy, negative_threshold, c, plain = best
    model = fit_head(vectors, list(labels), c, -negative_threshold)
    return Fitted(model, c, accuracy, plain, len(utterances))

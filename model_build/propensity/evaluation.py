"""The served model against the named baselines on CDNOW's holdout (October 1997), both horizons.

- **RFM logistic regression**: recency, frequency, monetary value and tenure (log1p, standardised),
  fitted on the same training examples as the booster (the same cut-offs and labels).
- **BG/NBD** (`lifetimes.BetaGeoFitter`), fitted on each customer's calibration-period summary at the
  holdout cut-off (repeat purchase days x, recency t_x and age T in days, from the same profiles), no
  labels used. Two scores from it: its expected purchases in the horizon (the ranking FIELD-NOTES
  recommends) and its probability of at least one purchase in the horizon,
  P(alive) x (1 - ((alpha + T) / (alpha + T + t)) ** (r + x)): a user alive at T buys nothing in the
  next t days with the gamma-Poisson posterior's probability, and can only drop out after a purchase.
  The probability is what the Brier score of BG/NBD uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model_build.propensity.dataset import HORIZONS, Examples
from model_build.propensity.train import Trained, quality

RFM = ("days_since_last_purchase", "repeat_purchase_days", "average_order_value", "days_since_first_purchase")


@dataclass(frozen=True)
class Scores:
    """Holdout probabilities per model and horizon, and the metrics of each."""

    probability: dict[tuple[str, int], np.ndarray]
    metrics: dict[tuple[str, int], dict[str, float]]
    labels: dict[int, np.ndarray]


def rfm_matrix(data: Examples) -> np.ndarray:
    return np.log1p(np.column_stack([np.maximum(data.column(name), 0) for name in RFM]))


def rfm_logistic(train: Examples, holdout: Examples, days: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(rfm_matrix(train), train.labels[days])
    return np.asarray(model.predict_proba(rfm_matrix(holdout))[:, 1])


def bgnbd(holdout: Examples) -> dict[str, object]:
    """Fit BG/NBD on the calibration summaries at the holdout cut-off; returns the fitter and the summary."""
    from lifetimes import BetaGeoFitter

    age = np.floor(holdout.column("days_since_first_purchase"))
    since_last = np.floor(holdout.column("days_since_last_purchase"))
    x = holdout.column("repeat_purchase_days").astype(float)
    recency = np.where(x > 0, age - since_last, 0.0)
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(x, recency, age)
    return {"fitter": fitter, "x": x, "recency": recency, "age": age}


def bgnbd_scores(fitted: dict[str, object], days: int) -> tuple[np.ndarray, np.ndarray]:
    """(expected purchases in `days`, P(at least one purchase in `days`)) per customer."""
    fitter, x, recency, age = fitted["fitter"], fitted["x"], fitted["recency"], fitted["age"]
    expected = np.asarray(fitter.conditional_expected_number_of_purchases_up_to_time(days, x, recency, age))  # type: ignore[attr-defined]
    alive = np.asarray(fitter.conditional_probability_alive(x, recency, age))  # type: ignore[attr-defined]
    params = fitter.params_  # type: ignore[attr-defined]
    r, alpha = float(params["r"]), float(params["alpha"])
    none_while_alive = ((alpha + age) / (alpha + age + days)) ** (r + x)  # type: ignore[operator]
    return expected, alive * (1 - none_while_alive)


def compare(trained: Trained, challengers: dict[str, dict[int, np.ndarray]] | None = None) -> Scores:
    """Every model's holdout metrics; `challengers` are more models' calibrated holdout probabilities per
    horizon (the GRU of `sequence`), judged beside the others."""
    train, _, holdout = trained.split()
    fitted = bgnbd(holdout)
    probability: dict[tuple[str, int], np.ndarray] = {}
    metrics: dict[tuple[str, int], dict[str, float]] = {}
    for days in HORIZONS:
        y = holdout.labels[days]
        expected, p_buy = bgnbd_scores(fitted, days)
        candidates = {
            "xgboost (served)": trained.horizons[days].holdout_probability,
            "rfm_logistic": rfm_logistic(train, holdout, days),
            "bgnbd_p_purchase": p_buy,
            "bgnbd_expected_purchases": expected,
        } | {name: per_horizon[days] for name, per_horizon in (challengers or {}).items()}
        for name, scores in candidates.items():
            probability[(name, days)] = scores
            metrics[(name, days)] = quality(y, scores)
            if name == "bgnbd_expected_purchases":  # a count, not a probability: no Brier score
                metrics[(name, days)]["brier"] = float("nan")
    return Scores(probability, metrics, {d: holdout.labels[d] for d in HORIZONS})

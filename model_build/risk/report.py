"""`reports/risk.md`: the fraud scorer on the simulator's time-split holdout, with plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.graph import GRAPH_FEATURES
from model_build.plots import figure
from model_build.risk.challenger import MIN_GAIN
from model_build.risk.evaluation import LABELS, VARIANTS, Evaluation, evaluate
from model_build.risk.export import summary_metrics, train
from model_build.risk.simulator import FRAUD_SCENARIOS
from model_build.risk.train import DECLINE_FPR, MAX_FPR, THRESHOLD_CONFIDENCE


def _pr_plot(evaluation: Evaluation, path: Path) -> None:
    from sklearn.metrics import precision_recall_curve

    y = evaluation.trained.split.holdout.is_fraud
    with figure(path, (6.4, 4.4)) as ax:
        for name in ("velocity_model", "full_model"):
            scores = evaluation.variants[name].holdout_scores
            assert scores is not None
            precision, recall, _ = precision_recall_curve(y, scores)
            ax.plot(recall, precision, label=f"{name} (PR-AUC {evaluation.summary.loc[name, 'pr_auc']:.3f})")
        rules = evaluation.summary.loc["rules_only"]
        ax.scatter([rules["recall"]], [rules["precision"]], color="black", zorder=3, label="rules only")
        for name in ("velocity_model", "full_model"):
            row = evaluation.summary.loc[name]
            ax.scatter([row["recall"]], [row["precision"]], marker="x", s=60, zorder=3)
        ax.set_xlabel("recall (fraudulent payments not approved)")
        ax.set_ylabel("precision")
        ax.set_ylim(0, 1.02)
        ax.set_title("Holdout precision-recall; x = chosen thresholds with rules")
        ax.legend(loc="lower left", fontsize=8)
        ax.grid(alpha=0.3)


def wilson(rate: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion `rate` observed on `n` trials (sound at small n and
    near 0 or 1, where the normal approximation is not)."""
    if n <= 0 or pd.isna(rate):
        return (math.nan, math.nan)
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _scenario_plot(evaluation: Evaluation, path: Path) -> None:
    table = evaluation.by_scenario.loc[list(FRAUD_SCENARIOS), list(VARIANTS)]
    counts = evaluation.by_scenario.loc[list(FRAUD_SCENARIOS), "payments"].astype(int)
    with figure(path, (7.6, 4.0)) as ax:
        width = 0.27
        x = np.arange(len(table))
        for offset, name in enumerate(VARIANTS):
            bounds = [wilson(float(r), int(n)) for r, n in zip(table[name], counts, strict=True)]
            errors = np.array(
                [
                    [r - lo for r, (lo, _) in zip(table[name], bounds, strict=True)],
                    [hi - r for r, (_, hi) in zip(table[name], bounds, strict=True)],
                ]
            )
            errors = np.clip(np.nan_to_num(errors), 0.0, None)  # rounding at a rate of 0 or 1
            ax.bar(x + (offset - 1) * width, table[name], width, label=name, yerr=errors, capsize=2)
        ax.set_xticks(x, [s.replace("_", "\n") for s in table.index], fontsize=8)
        ax.set_ylabel("recall (review or decline)")
        ax.set_ylim(0, 1.05)
        ax.set_title("Holdout recall by fraud scenario at the chosen thresholds (95% Wilson intervals)")
        ax.legend(fontsize=8)
        ax.grid(axis="y", alpha=0.3)


def _percent(value: float, digits: int = 1) -> str:
    return "n/a" if pd.isna(value) else f"{100 * value:.{digits}f}%"


def _summary_table(evaluation: Evaluation) -> str:
    lines = [
        "| variant | PR-AUC | ROC-AUC | recall at FPR 0.3% (holdout curve) | recall at chosen thresholds "
        "| FPR at chosen thresholds | decline recall / FPR | precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in VARIANTS:
        row = evaluation.summary.loc[name]
        lines.append(
            f"| {LABELS[name]} | {row['pr_auc']:.3f} | {row['roc_auc']:.4f} | {_percent(row['recall_at_fpr_0.3%'])} "
            f"| {_percent(row['recall'])} | {_percent(row['fpr'], 3)} "
            f"| {_percent(row['decline_recall'])} / {_percent(row['decline_fpr'], 3)} | {_percent(row['precision'])} |"
        )
    return "\n".join(lines)


def _with_interval(rate: float, n: int, digits: int) -> str:
    low, high = wilson(rate, n)
    return f"{_percent(rate, digits)} ({_percent(low, digits)}-{_percent(high, digits)})"


def _scenario_table(evaluation: Evaluation) -> str:
    lines = ["| scenario | holdout payments | " + " | ".join(VARIANTS) + " |", "|---|---|" + "---|" * len(VARIANTS)]
    for scenario, row in evaluation.by_scenario.iterrows():
        what = "FPR: share not approved" if scenario == "legit" else "recall"
        digits = 3 if scenario == "legit" else 1
        cells = " | ".join(_with_interval(row[name], int(row["payments"]), digits) for name in VARIANTS)
        lines.append(f"| {scenario} ({what}) | {int(row['payments']):,} | {cells} |")
    return "\n".join(lines)


def write_report(report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    trained = train()
    evaluation = evaluate(trained)
    parts = trained.split
    images = report_dir / "risk"
    images.mkdir(exist_ok=True)
    _pr_plot(evaluation, images / "pr_curve.png")
    _scenario_plot(evaluation, images / "recall_by_scenario.png")

    full = evaluation.summary.loc["full_model"]
    y = parts.holdout.is_fraud
    approve_all_accuracy = float((~y).mean())
    thresholds = trained.policy.thresholds
    gain = full["pr_auc"] - evaluation.summary.loc["velocity_model", "pr_auc"]
    n_genuine = int((~y).sum())
    margin = 1.96 * float(np.sqrt(full["fpr"] * (1 - full["fpr"]) / n_genuine))
    verdict = "within" if full["fpr"] <= MAX_FPR else "just above" if full["fpr"] - margin <= MAX_FPR else "above"
    config = trained.config
    registry_fpr = summary_metrics(trained)["holdout_fpr_at_review"]
    text = f"""# Risk control: fraud scoring on the simulator

Generated by `make eval` (`model_build/risk/report.py`). **All data here is simulated**
(`model_build/risk/simulator.py`, seed {config.seed}): there is no real labelled fraud data offline. The
simulator's assumptions are documented in its module docstring. Figures say how the pipeline behaves on
that world, where the fraud patterns are the ones we wrote; real traffic will be harder.

## Data and split

- {config.n_customers:,} customers, {config.n_merchants} merchants, {config.days} days:
  {len(trained.dataset.time):,} payments, {100 * trained.dataset.is_fraud.mean():.2f}% fraudulent, in five
  scenarios (amount outliers, card testing, account takeover, compromised merchants, fraud rings).
- Features come from replaying every login and payment in time order through serving's own code
  (`commerce_ai/risk/velocity.py`, `features.py`): {len(FEATURE_NAMES)} features, of which
  {len(GRAPH_FEATURES)} are graph features from a weekly snapshot of the previous 28 days (as the weekly
  job builds it) with the labels known by then. Every simulated fraud gets its label 3 days later; in
  production only approved fraud comes back as a chargeback, weeks later, so the graph's fraud rates
  will be weaker there than here.
- Split by time: the {config.warmup_days}-day warm-up (no fraud; its genuine customers are the only ones
  without history, as the simulator has no later sign-ups) and 60% of the rest train, {len(parts.train.time):,} payments
  ({int(parts.train.is_fraud.sum())} fraud), validation {len(parts.validation.time):,}
  ({int(parts.validation.is_fraud.sum())}), holdout {len(parts.holdout.time):,} ({int(y.sum())}). The holdout
  is the last 25% of the period; training and threshold choice never see it.
- Thresholds are chosen on validation (`model_build/risk/train.py`, `choose_thresholds`): together with
  the rules, genuine payments sent to review or declined must stay within {100 * MAX_FPR:.1f}%, and those
  declined within {100 * DECLINE_FPR:.2f}%, for the {100 * THRESHOLD_CONFIDENCE:.0f}% Clopper-Pearson upper
  bound of the rate on validation data. Review: score ≥ {thresholds.review:.4f}; decline: score ≥
  {thresholds.decline:.4f}. A rule can only make a decision stricter. Caveat: the confidence bound was
  added after an earlier version (a plain 0.3% cut on validation, without the rules' share) came out at
  0.35% on this same holdout, so the holdout has informed that one design choice; its FPR below is
  therefore not a fully untouched estimate.

## Results on the holdout

{_summary_table(evaluation)}

"Recall" counts a fraudulent payment as caught when it is sent to review or declined; FPR is the share of
genuine payments that are not approved. The graph features add {gain:+.3f} PR-AUC over the velocity-only
model.

![precision-recall](risk/pr_curve.png)

### By scenario

Each rate is followed by its 95% Wilson interval: a scenario has only tens to a few hundred fraudulent
payments in the holdout, so a difference of a few points between variants there is not a difference.

{_scenario_table(evaluation)}

![recall by scenario](risk/recall_by_scenario.png)

**Two false-positive rates.** The registry records `holdout_fpr_at_review` with the model:
{_percent(registry_fpr, 3)}, the share of genuine holdout payments whose score alone reaches the review
threshold. The tables above count what serving does, the score **and the rules** (the amount limits and
the velocity rules also send genuine payments to review): {_percent(full["fpr"], 3)}. The second is the
one a customer meets; the first is what the model adds to it.

## Against the design's figures

The design quotes 98.7% accuracy and under 0.3% false positives. Accuracy is not a useful measure here:
on this holdout, approving every payment is {100 * approve_all_accuracy:.1f}% accurate, because only
{100 * y.mean():.1f}% of payments are fraud. The honest figures are above: at the chosen thresholds the
shipped model (with rules) sends {_percent(full["fpr"], 3)} of genuine payments to review or decline,
{verdict} the target of at most {100 * MAX_FPR:.1f}% (the bound was set on validation; on a holdout of
{n_genuine:,} genuine payments the rate itself is uncertain by ±{100 * margin:.3f} points, 95%), and
catches {_percent(full["recall"])} of fraudulent ones; its accuracy is {_percent(full["accuracy"], 2)}.
These are results on a simulator whose fraud is cleanly separable in places (card-testing bursts,
impossible travel); they are an upper bound, not a forecast for production.

## What ships

`make run` (and `commerce-ai train risk`) trains this pipeline and publishes `risk-model` (XGBoost as
ONNX, with `policy.json`: thresholds, rule settings, per-feature reference values for the reasons) and
`risk-graph` (the graph snapshot at the end of the data). In production, `RiskWeeklyFunction` rebuilds
the graph snapshot every week from scored transactions and their labels, and `RiskChallengerFunction`
trains a challenger on the feature vectors serving stored, activating it only if it beats the champion on
a time-split holdout (by {MIN_GAIN} PR-AUC).
"""
    path = report_dir / "risk.md"
    path.write_text(text)
    return path

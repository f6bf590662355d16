"""`reports/propensity.md`: the served XGBoost against RFM logistic regression and BG/NBD on CDNOW's
October-1997 holdout, both horizons, with ROC and PR curves, a reliability diagram, lift by decile and
feature importance (figures need the `study` extra's matplotlib)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from commerce_ai.propensity.features import FEATURE_NAMES
from model_build.plots import figure
from model_build.propensity.data import CDNOW_SOURCE, load_cdnow
from model_build.propensity.dataset import CDNOW_HOLDOUT, HORIZONS, TRAINING_CUTOFFS, Plan
from model_build.propensity.evaluation import Scores, compare
from model_build.propensity.sequence import BUDGET_SECONDS, EPOCHS, MAX_EVENTS, Challenger, train_challenger
from model_build.propensity.train import Trained, train

SERVED = "xgboost (served)"
CHALLENGER = "gru_sequence (challenger)"
BASELINE = "bgnbd_p_purchase"


def _curves(scores: Scores, days: int, path: Path) -> None:
    from sklearn.metrics import precision_recall_curve, roc_curve

    y = scores.labels[days]
    with figure(path, (11, 4.4)) as ax:
        fig = ax.figure
        ax.remove()
        roc_ax, pr_ax = fig.subplots(1, 2)
        for (name, horizon), p in scores.probability.items():
            if horizon != days:
                continue
            m = scores.metrics[(name, days)]
            fpr, tpr, _ = roc_curve(y, p)
            roc_ax.plot(fpr, tpr, label=f"{name} ({m['roc_auc']:.3f})")
            precision, recall, _ = precision_recall_curve(y, p)
            pr_ax.plot(recall, precision, label=f"{name} ({m['pr_auc']:.3f})")
        roc_ax.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
        roc_ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=f"ROC, {days}-day horizon")
        pr_ax.set(xlabel="recall", ylabel="precision", title=f"Precision-recall, {days}-day horizon")
        roc_ax.legend(fontsize=7)
        pr_ax.legend(fontsize=7)


def _reliability(scores: Scores, path: Path) -> None:
    with figure(path, (6, 4.6)) as ax:
        for days in HORIZONS:
            for name in (SERVED, "rfm_logistic", BASELINE):
                p, y = scores.probability[(name, days)], scores.labels[days]
                edges = np.quantile(p, np.linspace(0, 1, 11))
                bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
                means = [(p[bins == b].mean(), y[bins == b].mean()) for b in range(10) if (bins == b).any()]
                xs, ys = zip(*means, strict=True)
                ax.plot(xs, ys, marker="o", markersize=3, label=f"{name}, {days} d")
        top = max(float(scores.labels[28].mean()) * 6, 0.5)
        ax.plot([0, top], [0, top], color="grey", linewidth=0.5)
        ax.set(xlabel="mean predicted probability (decile)", ylabel="observed share buying", title="Reliability")
        ax.legend(fontsize=7)


def _lift(scores: Scores, path: Path) -> None:
    with figure(path, (7, 4.2)) as ax:
        width = 0.13
        names = [n for n, d in scores.probability if d == 28]
        for i, days in enumerate(HORIZONS):
            for j, name in enumerate(names):
                p, y = scores.probability[(name, days)], scores.labels[days]
                order = np.argsort(-p, kind="stable")
                deciles = np.array_split(y[order], 10)
                lift = [d.mean() / y.mean() for d in deciles]
                offset = (i * len(names) + j - len(names)) * width
                ax.bar(np.arange(1, 11) + offset, lift, width, label=f"{name}, {days} d")
        ax.set(xlabel="decile (1 = highest score)", ylabel="lift over the base rate", title="Lift by decile")
        ax.legend(fontsize=6)


def _importance(trained: Trained, path: Path) -> list[tuple[str, float]]:
    gains = trained.horizons[28].booster.get_score(importance_type="gain")
    ranked = sorted(((FEATURE_NAMES[int(k[1:])], v) for k, v in gains.items()), key=lambda kv: -kv[1])[:20]
    with figure(path, (7, 5.5)) as ax:
        ax.barh([n for n, _ in ranked][::-1], [v for _, v in ranked][::-1])
        ax.set(xlabel="gain", title="XGBoost feature importance (28 days, top 20)")
    return ranked


BOOTSTRAP = 200  # paired resamples of the holdout customers for the challenger's margin


def paired_margin(scores: Scores, metric: str, days: int = 28) -> tuple[float, float, float]:
    """The challenger's `metric` minus the served tree's on the holdout, and its 95% interval from a paired
    bootstrap over customers (both models rescored on the same resample)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    score = roc_auc_score if metric == "roc_auc" else average_precision_score
    y = scores.labels[days]
    mine, served = scores.probability[(CHALLENGER, days)], scores.probability[(SERVED, days)]
    rng = np.random.default_rng(7)
    margins = []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            margins.append(score(y[pick], mine[pick]) - score(y[pick], served[pick]))
    low, high = np.quantile(margins, [0.025, 0.975])
    return float(score(y, mine) - score(y, served)), float(low), float(high)


def challenger_wins(margins: dict[str, tuple[float, float, float]]) -> bool:
    """The sequence model ships only if it beats the tree on the holdout: on 28 days, on both ROC-AUC and
    PR-AUC, by more than the holdout's noise (the lower end of each paired-bootstrap interval above 0)."""
    return all(low > 0 for _, low, _ in margins.values())


def _challenger_verdict(scores: Scores, challenger: Challenger) -> list[str]:
    mine, served = scores.metrics[(CHALLENGER, 28)], scores.metrics[(SERVED, 28)]
    margins = {metric: paired_margin(scores, metric) for metric in ("roc_auc", "pr_auc")}
    stopped = "its time budget" if challenger.stopped_by_budget else "early stopping or the epoch limit"
    outcome = (
        "It beats the tree on both beyond the noise, so it would ship; serving it needs each profile to keep its "
        "last events, which the profile does not do yet, so the build still serves XGBoost."
        if challenger_wins(margins)
        else "It does not beat the tree on both beyond the holdout's noise, so it does not ship: the build "
        "serves XGBoost."
    )
    spread = "; ".join(
        f"{label} {m:+.4f} (95% {low:+.4f} to {high:+.4f})"
        for label, (m, low, high) in zip(("ROC-AUC", "PR-AUC"), margins.values(), strict=True)
    )
    return [
        "## The sequence challenger",
        "",
        f"A GRU (`model_build/propensity/sequence.py`) over each customer's last {MAX_EVENTS} events before the "
        "cut-off (type, days to the cut-off, gap since the previous event, quantity, amount), with the history's "
        "length and age, one network for both horizons; trained on the same training cut-offs, early-stopped and "
        "Platt-calibrated on the validation cut-off, scored once on the holdout. It trained "
        f"{challenger.epochs} epoch(s) (best: {challenger.best_epoch}; at most {EPOCHS}, "
        f"{BUDGET_SECONDS:.0f} s budget; ended by {stopped}) in {challenger.seconds:.0f} s on one thread. "
        f"On 28 days: ROC-AUC {mine['roc_auc']:.4f} against the tree's {served['roc_auc']:.4f}, PR-AUC "
        f"{mine['pr_auc']:.4f} against {served['pr_auc']:.4f}. Its margin over the tree, with a paired bootstrap "
        f"over customers ({BOOTSTRAP} resamples): {spread}. The rule: it ships only if both intervals are above "
        f"zero. {outcome}",
    ]


def write_report(report_dir: Path) -> Path:
    started = time.perf_counter()
    frame = load_cdnow()
    plan = Plan.stepping_back(CDNOW_HOLDOUT, frame["timestamp"].min().to_pydatetime(), training=TRAINING_CUTOFFS)
    trained = train(frame, plan, CDNOW_SOURCE)
    challenger = train_challenger(frame, plan, trained.data)
    scores = compare(trained, {CHALLENGER: challenger.holdout_probability})
    figures = report_dir / "propensity"
    figures.mkdir(parents=True, exist_ok=True)
    for days in HORIZONS:
        _curves(scores, days, figures / f"curves_{days}d.png")
    _reliability(scores, figures / "reliability.png")
    _lift(scores, figures / "lift.png")
    ranked = _importance(trained, figures / "importance.png")
    elapsed = time.perf_counter() - started

    lines = [
        "# Propensity: will a customer buy within 7 / 28 days? (CDNOW, real data)",
        "",
        f"Data: {CDNOW_SOURCE}. Every figure below comes from this real data; nothing here is simulated.",
        "",
        "Protocol (out of time, as production works): features are the serving features "
        "(`commerce_ai.propensity.features`) of each customer's profile folded from the purchases before a "
        "cut-off; labels are at least one purchase within 7 or 28 days after it. "
        f"Training cut-offs: {', '.join(f'{c:%Y-%m-%d}' for c in plan.training)}; validation (early stopping, "
        f"Platt calibration, RFM fit is on training only): {plan.validation:%Y-%m-%d}; holdout: "
        f"{plan.holdout:%Y-%m-%d} (calibration period up to and including 1997-09-30, labels from October "
        "1997). Every training and validation label window ends by 1997-09-30. "
        f"Training examples: {len(trained.split()[0].users):,}; holdout customers: {len(trained.split()[2].users):,}.",
        "",
        "Baselines: RFM logistic regression (log recency, frequency, monetary value, tenure; fitted on the "
        "training examples) and BG/NBD (`lifetimes`, fitted on the calibration-period summaries at the holdout "
        "cut-off): its P(at least one purchase in the horizon) = P(alive) x (1 - ((alpha+T)/(alpha+T+t))^(r+x)), "
        "and its expected number of purchases (a count: no Brier score).",
        "",
    ]
    for days in HORIZONS:
        lines += [
            f"## {days}-day horizon ({int(scores.labels[days].sum())} buyers of {len(scores.labels[days]):,})",
            "",
            "| model | ROC-AUC | PR-AUC | Brier | top-decile lift |",
            "|---|---|---|---|---|",
        ]
        for (name, horizon), m in scores.metrics.items():
            if horizon == days:
                brier = "n/a" if np.isnan(m["brier"]) else f"{m['brier']:.4f}"
                lines.append(
                    f"| {name} | {m['roc_auc']:.4f} | {m['pr_auc']:.4f} | {brier} | {m['lift_top_decile']:.2f} |"
                )
        served, base = scores.metrics[(SERVED, days)], scores.metrics[(BASELINE, days)]
        lines += [
            "",
            f"XGBoost against BG/NBD: ROC-AUC {100 * (served['roc_auc'] / base['roc_auc'] - 1):+.1f}%, "
            f"PR-AUC {100 * (served['pr_auc'] / base['pr_auc'] - 1):+.1f}%, "
            f"Brier {100 * (served['brier'] / base['brier'] - 1):+.1f}% (lower is better).",
            "",
            f"![ROC and PR curves, {days} days](propensity/curves_{days}d.png)",
            "",
        ]
    m28 = scores.metrics[(SERVED, 28)]
    best_gain = max(
        100 * (scores.metrics[(SERVED, d)][k] / scores.metrics[(BASELINE, d)][k] - 1)
        for d in HORIZONS
        for k in ("roc_auc", "pr_auc")
    )
    roc_leaders = {
        d: max((scores.metrics[(n, h)]["roc_auc"], n) for n, h in scores.metrics if h == d)[1] for d in HORIZONS
    }
    best_roc_note = "; ".join(f"the best ROC-AUC on {d} days is {roc_leaders[d]}'s" for d in HORIZONS)
    met = m28["roc_auc"] >= 0.80 and m28["pr_auc"] >= 0.32
    lines += [
        "## Verdict",
        "",
        f"The issue's goal on 28 days (ROC-AUC >= 0.80 and PR-AUC >= 0.32) is **{'met' if met else 'not met'}**: "
        f"ROC-AUC {m28['roc_auc']:.3f}, PR-AUC {m28['pr_auc']:.3f}. The design's claim of a model "
        f"'more than 30% better than traditional statistical models' does **{'' if best_gain > 30 else 'not '}"
        f"hold** on this data: the largest relative gain over BG/NBD above is {best_gain:+.1f}%, and "
        f"{best_roc_note}. CDNOW holds dates, CD counts and "
        "amounts only, and BG/NBD models exactly that purchase process; a tree on the same history finds little "
        "more. Whether browsing signals (views, carts, searches) widen the gap cannot be measured on CDNOW; "
        "the clickstream simulator exercises that code but its figures would say nothing about real shoppers.",
        "",
        *_challenger_verdict(scores, challenger),
        "",
        "## Calibration and lift",
        "",
        "![Reliability diagram](propensity/reliability.png)",
        "",
        "![Lift by decile](propensity/lift.png)",
        "",
        "## What the model uses (28 days, gain)",
        "",
        "| feature | gain |",
        "|---|---|",
        *(f"| {name} | {gain:.1f} |" for name, gain in ranked),
        "",
        "![Feature importance](propensity/importance.png)",
        "",
        f"Written by `make eval` in {elapsed:.0f} s. The served models come from the default build "
        "(`model_build/propensity`, three training cut-offs to stay within the 60 s build budget), whose "
        "holdout metrics are in each version's manifest; this report trains with "
        f"{TRAINING_CUTOFFS} cut-offs.",
        "",
    ]
    attempts = figures / "attempts.md"  # the study of the 28-day goal (model_build/propensity/study.py)
    if attempts.exists():
        lines += [attempts.read_text().rstrip("\n"), ""]
    path = report_dir / "propensity.md"
    path.write_text("\n".join(lines))
    return path

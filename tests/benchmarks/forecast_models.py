"""Forecast models end to end on Dominick's OJ (`--only forecast-models`, `--forecast-model-series 913`):
the issue's "all 913 series through the hybrid against Prophet fitted per series in the same run".

At the protocol's last origin (week 152, horizons 1-8, the forecast weeks' prices and promotions known),
over the first N SKUs of a seeded shuffle of OJ's 913 (all of them by default), each model fitted and
forecast from scratch, timed end to end (features, fits, forecasts; the OJ read is setup):

- Prophet fitted per series (multiplicative seasonality, price/deal/feature regressors: `hybrid.ProphetStudy`)
  - the baseline every other figure is a ratio to;
- the Prophet + LightGBM hybrid: those same Prophet fits plus the global LightGBM on their residuals and the
  related series (its time is Prophet's plus the residual stage: it cannot be faster than Prophet alone);
- the served model: the global LightGBM per quantile with the conformal band (`global_model.train_served`).

Each is scored on the same cells (`protocol.series_metrics`: WAPE, scaled pinball, p10-p90 coverage). Prophet's
per-series fits are the slow part (0.2-1.7 s each on this machine, by its load), so a smaller N is a quick look.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np

from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, ratio, table

ORIGIN = 152
SHUFFLE_SEED = 14
OJ_SERIES = 913


def run(report: Report, series: int = OJ_SERIES) -> None:
    from model_build.forecasting import protocol
    from model_build.forecasting.data import oj_frame, weekly_series
    from model_build.forecasting.hybrid import ProphetStudy
    from model_build.forecasting.lightgbm_forecaster import LightGbmStudy

    warnings.filterwarnings("ignore", category=RuntimeWarning)
    heading(f"FORECAST MODELS: {series} OJ SERIES END TO END, SERVED LIGHTGBM AND THE HYBRID VS PROPHET PER SERIES")
    started = time.perf_counter()
    everything = weekly_series(oj_frame())
    order = np.random.default_rng(SHUFFLE_SEED).permutation(len(everything))
    chosen = [everything[i] for i in sorted(order[:series])]
    print(f"  OJ read in {fmt_seconds(time.perf_counter() - started)} (setup); {len(chosen)} of {len(everything)} SKUs")

    load = os.getloadavg()[0]
    prophet = ProphetStudy()
    runs: dict[str, Any] = {}
    runs["Prophet per series"] = protocol.run("Prophet", prophet.prophet, chosen, origins=(ORIGIN,))
    residual = protocol.run("hybrid", prophet.hybrid, chosen, origins=(ORIGIN,))  # reuses every Prophet fit
    runs["Prophet + LightGBM hybrid"] = protocol.Scored(
        residual.name, residual.cells, runs["Prophet per series"].seconds + residual.seconds
    )
    runs["served: global LightGBM + conformal"] = protocol.run(
        "served", LightGbmStudy().conformal, chosen, origins=(ORIGIN,)
    )
    baseline = runs["Prophet per series"].seconds
    rows = []
    for name, scored in runs.items():
        m = protocol.series_metrics(scored.cells)
        rows.append(
            [
                name,
                fmt_seconds(scored.seconds),
                fmt_ratio(ratio(scored.seconds, baseline)),
                f"{len(chosen) / scored.seconds:,.1f}",
                f"{m['wape']:.3f}",
                f"{m['scaled_pinball']:.3f}",
                f"{m['coverage_80']:.1%}",
            ]
        )
    print(
        f"\n  origin week {ORIGIN}, horizons 1-8, {int(m['cells']):,} scored SKU-weeks; load average {load:.1f} "
        f"before, {os.getloadavg()[0]:.1f} after; {prophet.fit_count} Prophet fits, "
        f"{prophet.fit_seconds / max(prophet.fit_count, 1):.2f} s each"
    )
    print(
        table(
            ["", "end to end", "vs Prophet", "series/s", "WAPE", "scaled pinball", "p10-p90 coverage"],
            rows,
        )
    )
    served = runs["served: global LightGBM + conformal"]
    hybrid = runs["Prophet + LightGBM hybrid"]
    metrics = {name: protocol.series_metrics(s.cells) for name, s in runs.items()}
    report.add(
        "forecast-models",
        f"{len(chosen)} OJ series end to end: served global LightGBM vs Prophet per series",
        fmt_seconds(served.seconds),
        fmt_seconds(baseline),
        ratio(served.seconds, baseline),
        f"WAPE {metrics['served: global LightGBM + conformal']['wape']:.3f} vs "
        f"{metrics['Prophet per series']['wape']:.3f}; load average {load:.1f}",
    )
    report.add(
        "forecast-models",
        f"{len(chosen)} OJ series end to end: Prophet + LightGBM hybrid vs Prophet per series",
        fmt_seconds(hybrid.seconds),
        fmt_seconds(baseline),
        ratio(hybrid.seconds, baseline),
        f"WAPE {metrics['Prophet + LightGBM hybrid']['wape']:.3f} vs {metrics['Prophet per series']['wape']:.3f} "
        "(the hybrid includes every Prophet fit)",
    )

"""Forecasting's test helpers, shared by its unit and integration tests: a real `forecasting-demand`
artifact built quickly (LightGBM -> ONNX on synthetic weekly series), a `forecasting-allocation` artifact
(the build's policy file, written by the build's own export) and sales histories."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np

from commerce_ai.artifacts.manifest import TrainingData
from commerce_ai.forecasting.allocation import FEATURES, AllocationPolicy, PolicyName
from commerce_ai.forecasting.features import Series
from commerce_ai.forecasting.model import Calibration
from commerce_ai.forecasting.records import SalesHistory
from model_build import Built

START = date(1990, 6, 7)


def sales_history(sku: str = "oj-2-1", weeks: int = 60, level: float = 100.0, seed: int = 0) -> SalesHistory:
    """A weekly history with price cuts that lift sales, as OJ's do."""
    rng = np.random.default_rng(seed)
    price = np.where(np.arange(weeks) % 6 == 0, 1.99, 2.49)
    units = level * (price / 2.49) ** -3 * np.exp(rng.normal(0, 0.15, weeks))
    return SalesHistory(
        sku=sku,
        freq="W",
        start=START,
        units=[round(float(u), 2) for u in units],
        price=[float(p) for p in price],
        promo=[1.0 if p < 2.0 else 0.0 for p in price],
        feature=[0.0] * weeks,
    )


def built_forecasting_demand(directory: Path) -> Built:
    """A real `forecasting-demand` artifact, quickly: 20 boosting rounds over 30 synthetic SKUs."""
    from model_build.forecasting import global_model
    from model_build.forecasting.export import write_artifact

    series: list[Series] = []
    for i in range(30):
        history = sales_history(f"s{i}", weeks=80, level=20.0 + 10 * i, seed=i)
        series.append(history.series(8))
    x, y = global_model.training_rows(series, 8, 52, stride=2)
    booster = global_model.fit(x, y, 52, rounds=20)
    training = TrainingData(fingerprint="synthetic", source="synthetic weekly series (tests)", rows=len(y))
    return write_artifact(booster, Calibration([0.1] * 8, 52, "W"), directory, training, {})


def weekly_dates(n: int) -> list[date]:
    return [START + timedelta(weeks=i) for i in range(n)]


def daily_sales_csv(days: int, start: date = date(2026, 1, 1), seed: int = 0) -> str:
    """A `date,sales` file (the seed's `sales_data.csv`): a weekly pattern with noise."""
    rng = np.random.default_rng(seed)
    rows = [
        f"{start + timedelta(days=i)},{round(20 + 8 * (i % 7 in (4, 5)) + float(rng.normal(0, 2)), 1)}"
        for i in range(days)
    ]
    return "date,sales\n" + "\n".join(rows) + "\n"


# Weights of the kind the build's search finds (need and relative price weigh most), fixed for tests.
TEST_THETA = [0.13, -0.23, -0.03, 0.79, 0.69]


def allocation_policy(served: PolicyName = "learned", theta: list[float] | None = None) -> AllocationPolicy:
    return AllocationPolicy(
        served_policy=served,
        features=list(FEATURES),
        theta=TEST_THETA if theta is None else theta,
        trained_weeks=(137, 148),
        judged_weeks=(149, 160),
        iterations=1,
        judged_cost={"learned": 1.0, "fair-share": 2.0, "proportional": 3.0},
    )


def built_forecasting_allocation(directory: Path, policy: AllocationPolicy | None = None) -> Built:
    """A `forecasting-allocation` artifact as the build writes it (no study: the policy is given)."""
    from model_build.forecasting.export import allocation_built

    training = TrainingData(fingerprint="synthetic", source="a fixed policy (tests)", rows=2)
    return allocation_built(policy or allocation_policy(), directory, training)

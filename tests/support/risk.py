"""Risk's test helpers, shared by its unit and integration tests and the benchmarks: real `risk-model`
and `risk-graph` artifacts from a small simulated world, and a scored history to train a challenger on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model_build import Built

SMALL_RISK_WORLD = {
    "n_customers": 400,
    "n_merchants": 40,
    "days": 24,
    "warmup_days": 3,
    "n_amount_outliers": 30,
    "n_card_testing_bursts": 8,
    "n_account_takeovers": 15,
    "n_compromised_merchants": 1,
    "n_rings": 2,
    "ring_size": (5, 8),
}


def built_risk(directory: Path) -> list[Built]:
    """Real `risk-model` and `risk-graph` artifacts, quickly: the production pipeline (simulate, replay
    through the serving feature code, XGBoost, thresholds, ONNX) on a small simulated world."""
    from model_build.risk.export import export, train
    from model_build.risk.simulator import SimulatorConfig

    trained = train(SimulatorConfig.model_validate(SMALL_RISK_WORLD), progress=False)
    return export(trained, directory)


def store_scored_history(store: Any, now: Any, days: int = 30, seed: int = 4, ending_days_ago: int = 15) -> int:
    """Fill a RiskStore's results with a small simulated world's payments, as serving would have stored
    them over `days` ending `ending_days_ago` (old enough for their labels to be in): feature vectors from
    the replay, the score fields, the entity ids; genuine ones approved, fraudulent ones reviewed with a
    confirmed label. Returns the number of frauds."""
    from datetime import timedelta

    from model_build.risk.dataset import replay
    from model_build.risk.simulator import SimulatorConfig, simulate

    world = SimulatorConfig.model_validate({**SMALL_RISK_WORLD, "seed": seed, "days": days + 3, "warmup_days": 3})
    data = replay(simulate(world), progress=False)
    end = float(data.time.max())
    fraud = 0
    for row, features in zip(data.payments.itertuples(index=False), data.features, strict=True):
        at = now - timedelta(days=ending_days_ago, seconds=end - row.timestamp.timestamp())
        record = {
            "score": 0.9 if row.is_fraud else 0.01,
            "decision": "review" if row.is_fraud else "approve",
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "user_id": row.user_id,
            "device_id": row.device_id,
            "ip": row.ip,
            "merchant_id": row.merchant_id,
            "amount": float(row.amount),
            "features": " ".join(f"{v:.6g}" for v in features),
        }
        store.claim(row.transaction_id, record, now)
        if row.is_fraud:
            store.label(row.transaction_id, True, "chargeback", now, f"seeded-{row.transaction_id}")
            fraud += 1
    return fraud

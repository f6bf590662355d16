"""Small, real artifacts for tests and benchmarks: a linear ONNX scorer built with onnx.helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from commerce_ai.artifacts.manifest import TensorSpec, TrainingData
from model_build import Built

FEATURES = ["price", "units_7d", "margin"]


def linear_onnx(path: Path, weights: list[float], bias: float = 0.0) -> Path:
    """score = features @ weights + bias, input 'features' float32 [N, len(weights)], output 'score' [N, 1]."""
    width = len(weights)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("MatMul", ["features", "w"], ["product"]),
            helper.make_node("Add", ["product", "b"], ["score"]),
        ],
        name="linear",
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, width])],
        outputs=[helper.make_tensor_value_info("score", TensorProto.FLOAT, [None, 1])],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, [width, 1], np.asarray(weights, dtype=np.float32).ravel()),
            helper.make_tensor("b", TensorProto.FLOAT, [1], [bias]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def built_linear(
    directory: Path, name: str = "demo-scorer", weights: list[float] | None = None, features: list[str] | None = None
) -> Built:
    features = features or FEATURES
    weights = weights or [1.0] * len(features)
    linear_onnx(directory / "model.onnx", weights)
    return Built(
        name=name,
        directory=directory,
        framework="onnx",
        entrypoint="model.onnx",
        inputs=[TensorSpec(name="features", dtype="float32", shape=[None, len(features)])],
        outputs=[TensorSpec(name="score", dtype="float32", shape=[None, 1])],
        feature_names=features,
        training_data=TrainingData(fingerprint="0" * 64, source="tests/support/models.py (synthetic weights)"),
        metrics={"weight_sum": float(sum(weights))},
    )


# ------------------------------------------------------------------------------- pricing-demand

# The synthetic market behind `built_pricing_demand`: log units = level + ELASTICITY x log(price / 2).
SYNTHETIC_ELASTICITY = -2.5


SYNTHETIC_PRICE_RANGE = (1.0, 4.0)  # the synthetic market's training prices


def pricing_serving_table(skus: dict[str, tuple[float, float]], elasticity: float = SYNTHETIC_ELASTICITY) -> Any:
    """A serving table for `skus` (sku -> (price, cost)), all at level log(100) and brand 1."""
    from commerce_ai.pricing.demand import ServingTable, SkuProfile

    return ServingTable(
        output="log_units",
        smearing=1.0,
        default_level=float(np.log(100.0)),
        pooled_elasticity=elasticity,
        skus={
            sku: SkuProfile(
                level=float(np.log(100.0)),
                brand=1,
                elasticity=elasticity,
                price=price,
                cost=cost,
                price_range=SYNTHETIC_PRICE_RANGE,
            )
            for sku, (price, cost) in skus.items()
        },
    )


def built_pricing_demand(directory: Path, skus: dict[str, tuple[float, float]]) -> Built:
    """A real `pricing-demand` artifact, quickly: a small LightGBM (the production exporter turns it into
    ONNX) trained on a synthetic constant-elasticity market, plus a serving table for `skus`."""
    import lightgbm as lgb

    from commerce_ai.pricing.demand import SERVING_TABLE
    from commerce_ai.pricing.features import FEATURE_NAMES, demand_features
    from model_build.pricing.export import demand_built, lightgbm_to_onnx

    rng = np.random.default_rng(0)
    n = 4000
    price = rng.uniform(*SYNTHETIC_PRICE_RANGE, n)
    level = np.full(n, np.log(100.0))
    columns = {
        "price": price,
        "deal": np.zeros(n),
        "feat": np.zeros(n),
        "week_of_year": rng.integers(1, 53, n).astype(float),
        "sku_level": level,
        "brand": np.ones(n),
    }
    log_units = level + SYNTHETIC_ELASTICITY * np.log(price / 2.0) + rng.normal(0, 0.05, n)
    monotone = [-1 if name == "log_price" else 0 for name in FEATURE_NAMES]
    booster = lgb.LGBMRegressor(n_estimators=60, num_leaves=15, monotone_constraints=monotone, verbose=-1)
    booster.fit(demand_features(columns), log_units)
    lightgbm_to_onnx(booster, directory / "model.onnx")
    (directory / SERVING_TABLE).write_text(pricing_serving_table(skus).model_dump_json())
    return demand_built(
        directory, TrainingData(fingerprint="0" * 64, source="tests/support/models.py (synthetic market)"), {}
    )


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
            store.label(row.transaction_id, True, "chargeback", now)
            fraud += 1
    return fraud

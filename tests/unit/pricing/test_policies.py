"""Simulator, baseline policies, the comparison's oracle row, and the DQN's ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_build.pricing.dqn import STATE_NAMES, DqnConfig, as_policy, export_onnx, observe, train_dqn
from model_build.pricing.policy import BEST_OF_BASELINES, evaluate_policies
from model_build.pricing.simulator import ACTIONS, Market, SkuMarket, keep_prices, myopic_optimal, run_episode


def underpriced(name: str = "oj-1-1", noise: float = 0.1) -> SkuMarket:
    """Elasticity about -3 and a 14% margin: the Lerner price, cost x 3/2 = 2.85, is far above 2.20."""
    return SkuMarket(
        sku=name,
        cost=1.9,
        reference_price=2.2,
        log_level=5.0,
        elasticity_low=-3.1,
        elasticity_high=-2.9,
        cross_elasticity=0.5,
        competitor_history=np.array([2.4, 2.6, 2.8]),
        noise_sd=noise,
    )


def test_myopic_pricing_earns_more_than_keeping_an_underpriced_sku_and_respects_the_rails() -> None:
    path: list[dict[str, object]] = []
    keep = run_episode(Market(underpriced(), np.random.default_rng(1)), keep_prices, 26)
    myopic = run_episode(Market(underpriced(), np.random.default_rng(1)), myopic_optimal, 26, path)
    assert myopic["profit"] > keep["profit"] * 1.3
    prices = [float(step["price"]) for step in path]  # type: ignore[arg-type]
    steps = np.abs(np.diff([2.2, *prices]) / np.array([2.2, *prices[:-1]]))
    assert steps.max() <= 0.10 + 0.005, "the guard rails' step limit paces the move"
    assert prices[-1] == pytest.approx(2.85, abs=0.15)


def test_the_oracle_row_is_at_least_as_good_as_each_baseline() -> None:
    markets = [underpriced(f"s{i}", noise=0.5) for i in range(6)]
    table = evaluate_policies(
        markets,
        {"keep_prices": keep_prices, "myopic_optimal": myopic_optimal},
        [1, 2, 3],
        baselines=("keep_prices", "myopic_optimal"),
    ).set_index("policy")
    assert table.loc[BEST_OF_BASELINES, "profit"] >= table.loc[["keep_prices", "myopic_optimal"], "profit"].max()
    assert table.loc["keep_prices", "changes"] == 0
    assert (table["profit_low"] < table["profit"]).all() and (table["profit"] < table["profit_high"]).all()


def test_the_dqn_exports_to_onnx_with_the_same_q_values(tmp_path: Path) -> None:
    import onnxruntime as ort
    import torch

    network = train_dqn([underpriced()], seed=3, config=DqnConfig(steps=400, batch=32))
    path = export_onnx(network, tmp_path / "policy.onnx")
    market = Market(underpriced(), np.random.default_rng(0))
    state = market.reset()
    seen = observe(market.sku, state)[None, :]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    exported = session.run(None, {"state": seen})[0]
    with torch.no_grad():
        native = network(torch.from_numpy(seen)).numpy()
    assert exported.shape == (1, len(ACTIONS)) and seen.shape == (1, len(STATE_NAMES))
    assert np.max(np.abs(exported - native)) < 1e-5
    proposal = as_policy(network)(market.sku, state)
    assert any(proposal == pytest.approx(state.price * (1 + a)) for a in ACTIONS)


def test_the_dqn_ships_only_when_it_beats_the_best_baseline_beyond_noise() -> None:
    import pandas as pd

    from model_build.pricing.evaluation import choose_shipped

    def summary(dqn_low: float, dqn_mean: float) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"policy": "keep_prices", "profit": 90.0, "profit_low": 85.0},
                {"policy": "myopic_optimal", "profit": 100.0, "profit_low": 95.0},
                {"policy": "dqn", "profit": dqn_mean, "profit_low": dqn_low},
            ]
        )

    assert choose_shipped(summary(dqn_low=99.0, dqn_mean=104.0)) == "myopic_optimal"
    assert choose_shipped(summary(dqn_low=101.0, dqn_mean=106.0)) == "dqn"

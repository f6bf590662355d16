"""The policy study behind reports/pricing.md: baselines and a DQN in the simulator, on held-out SKUs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model_build.pricing.demand import Comparison
from model_build.pricing.dqn import DqnConfig, as_policy, train_dqn
from model_build.pricing.policy import episodes, summarize
from model_build.pricing.simulator import Market, SkuMarket, keep_prices, markets_from_data, myopic_optimal, run_episode

BASELINES = {"keep_prices": keep_prices, "myopic_optimal": myopic_optimal}
STUDY_SKUS = 160
TEST_SHARE = 0.4


@dataclass
class PolicyStudy:
    summary: pd.DataFrame
    shipped: str
    train_skus: int
    test_skus: int
    seeds: list[int]
    paths: dict[str, list[dict[str, Any]]]
    example_sku: str
    networks: dict[int, Any] = field(repr=False, default_factory=dict)


def split_markets(
    frame: pd.DataFrame, comparison: Comparison, seed: int = 0
) -> tuple[list[SkuMarket], list[SkuMarket]]:
    """Markets for a random sample of SKUs, split by SKU: the DQN never trains on a test SKU."""
    rng = np.random.default_rng(seed)
    eligible = sorted(s for s, n in frame.groupby("sku").size().items() if n >= 20)
    chosen = list(rng.choice(eligible, min(STUDY_SKUS, len(eligible)), replace=False))
    markets = markets_from_data(frame, comparison, chosen)
    cut = int(len(markets) * (1 - TEST_SHARE))
    return markets[:cut], markets[cut:]


def choose_shipped(summary: pd.DataFrame) -> str:
    """The DQN ships only if it beats the best real baseline beyond noise (its whole 95% interval above
    that baseline's mean profit); otherwise the simpler baseline ships."""
    table = summary.set_index("policy")
    best_baseline = str(table.loc[list(BASELINES), "profit"].idxmax())
    if "dqn" in table.index and table.loc["dqn", "profit_low"] > table.loc[best_baseline, "profit"]:
        return "dqn"
    return best_baseline


def policy_study(
    frame: pd.DataFrame, comparison: Comparison, seeds: list[int], dqn: DqnConfig, progress: bool = False
) -> PolicyStudy:
    train, test = split_markets(frame, comparison)
    tables = [episodes(name, policy, test, seed) for name, policy in BASELINES.items() for seed in seeds]
    networks = {}
    for seed in seeds:  # a DQN per seed: the interval covers training luck as well as market noise
        networks[seed] = train_dqn(train, seed, dqn, progress=progress)
        tables.append(episodes("dqn", as_policy(networks[seed]), test, seed))
    summary = summarize(pd.concat(tables), baselines=tuple(BASELINES))
    shipped = choose_shipped(summary)

    policies = {**BASELINES, "dqn": as_policy(networks[seeds[0]])}
    example = example_market(test, policies[shipped], seeds[0])
    paths: dict[str, list[dict[str, Any]]] = {}
    for name, policy in policies.items():
        paths[name] = []
        run_episode(Market(example, np.random.default_rng([seeds[0], 0])), policy, 26, paths[name])
    return PolicyStudy(summary, shipped, len(train), len(test), seeds, paths, example.sku, networks)


def example_market(test: list[Any], shipped: Any, seed: int, tries: int = 30) -> Any:
    """Of the first `tries` test SKUs, the one whose price the shipped policy moves most often in 26 weeks
    (the first such on a tie): an example whose price never moves shows the guard rails doing nothing
    (issue 19)."""
    best, most = test[0], 0
    for market in test[:tries]:
        steps: list[dict[str, Any]] = []
        run_episode(Market(market, np.random.default_rng([seed, 0])), shipped, 26, steps)
        changes = sum(1 for a, b in itertools.pairwise(steps) if round(a["price"], 2) != round(b["price"], 2))
        if changes > most:
            best, most = market, changes
    return best

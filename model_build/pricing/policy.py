"""Compare pricing policies in the simulator: profit and revenue over a horizon, with intervals over seeds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from model_build.pricing.simulator import Market, Policy, SkuMarket, run_episode

HORIZON_WEEKS = 26


BEST_OF_BASELINES = "best_of_baselines"


def episodes(
    name: str, policy: Policy, markets: list[SkuMarket], seed: int, weeks: int = HORIZON_WEEKS
) -> pd.DataFrame:
    """One episode per SKU. The market's randomness depends only on (seed, SKU): common random numbers,
    so every policy faces the same markets and differences between policies are not noise."""
    rows = [
        {
            "policy": name,
            "seed": seed,
            "sku": index,
            **run_episode(Market(sku, np.random.default_rng([seed, index])), policy, weeks),
        }
        for index, sku in enumerate(markets)
    ]
    return pd.DataFrame(rows)


def evaluate_policies(
    markets: list[SkuMarket],
    policies: Mapping[str, Policy],
    seeds: list[int],
    weeks: int = HORIZON_WEEKS,
    baselines: tuple[str, ...] = (),
) -> pd.DataFrame:
    table = pd.concat([episodes(n, p, markets, s, weeks) for n, p in policies.items() for s in seeds])
    return summarize(table, baselines)


def summarize(table: pd.DataFrame, baselines: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per policy: mean profit and revenue per SKU over the horizon, with a 95% interval across seeds.

    With `baselines`, a further row picks, per SKU and seed and in hindsight, whichever baseline made
    more profit there: an oracle that no single baseline can beat.
    """
    table = table.reset_index(drop=True)
    if baselines:
        candidates = table[table["policy"].isin(baselines)]
        best = candidates.loc[candidates.groupby(["seed", "sku"])["profit"].idxmax()].assign(policy=BEST_OF_BASELINES)
        table = pd.concat([table, best], ignore_index=True)
    per_seed = table.groupby(["policy", "seed"], sort=False)[["profit", "revenue", "changes", "blocked"]].mean()
    summary = []
    for name, group in per_seed.groupby(level="policy", sort=False):
        entry: dict[str, float | str] = {"policy": str(name)}
        for metric in ("profit", "revenue"):
            values = group[metric].to_numpy()
            half = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
            entry[metric] = float(values.mean())
            entry[f"{metric}_low"] = float(values.mean() - half)
            entry[f"{metric}_high"] = float(values.mean() + half)
        entry["changes"] = float(group["changes"].mean())
        entry["blocked"] = float(group["blocked"].mean())
        summary.append(entry)
    return pd.DataFrame(summary)

"""A DQN pricing policy, trained in the simulator (torch, training only) and exported to ONNX.

The agent sees a small, scale-free state and proposes one of ACTIONS (a relative price move); the
guard rails then decide what is applied, exactly as in production. Rewards are weekly profit in units
of the SKU's reference revenue, so SKUs of different sizes weigh alike, less `change_penalty` for each
price change applied: a stand-in for the real cost of changing a shelf price (labels, customers'
trust), without which the agent flips between near-equal prices week after week. The policy study
reports plain profit and the number of changes, so the penalty shapes learning, not the score.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_build.pricing.simulator import ACTIONS, Market, SkuMarket, State

STATE_NAMES = [
    "log_price_vs_reference",
    "log_competitor_vs_reference",
    "log_cost_vs_reference",
    "estimated_elasticity",
    "margin",
]


def observe(sku: SkuMarket, state: State) -> np.ndarray:
    """The agent's view: the same function in training, evaluation and the exported policy's serving."""
    estimated = (sku.elasticity_low + sku.elasticity_high) / 2
    return np.array(
        [
            np.log(state.price / sku.reference_price),
            np.log(state.competitor_index / sku.reference_price),
            np.log(sku.cost / sku.reference_price),
            estimated / 4.0,
            (state.price - sku.cost) / state.price,
        ],
        dtype=np.float32,
    )


@dataclass(frozen=True)
class DqnConfig:
    steps: int = 40_000
    gamma: float = 0.9
    learning_rate: float = 1e-3
    batch: int = 128
    replay: int = 50_000
    target_every: int = 500
    epsilon_end: float = 0.05
    explore_share: float = 0.6
    hidden: int = 64
    episode_weeks: int = 26
    change_penalty: float = 0.02  # per applied change, in units of a week's reference revenue


def _network(hidden: int) -> Any:
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(len(STATE_NAMES), hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, len(ACTIONS)),
    )


def train_dqn(markets: list[SkuMarket], seed: int, config: DqnConfig = DqnConfig(), progress: bool = False) -> Any:
    import torch
    from tqdm import tqdm

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    random.seed(seed)
    online, target = _network(config.hidden), _network(config.hidden)
    target.load_state_dict(online.state_dict())
    optimiser = torch.optim.Adam(online.parameters(), lr=config.learning_rate)
    memory: deque[tuple[np.ndarray, int, float, np.ndarray]] = deque(maxlen=config.replay)

    sku = markets[int(rng.integers(len(markets)))]
    market = Market(sku, rng)
    state = market.reset()
    scale = sku.reference_price * float(np.exp(sku.log_level))
    for step in tqdm(range(config.steps), desc="DQN", disable=not progress, unit="step"):
        epsilon = max(config.epsilon_end, 1.0 - step / (config.explore_share * config.steps))
        seen = observe(sku, state)
        if rng.random() < epsilon:
            action = int(rng.integers(len(ACTIONS)))
        else:
            with torch.no_grad():
                action = int(online(torch.from_numpy(seen)).argmax())
        following, outcome = market.step(state, state.price * (1 + ACTIONS[action]))
        reward = outcome["profit"] / scale - config.change_penalty * outcome["changed"]
        memory.append((seen, action, reward, observe(sku, following)))
        state = following
        if state.week >= config.episode_weeks:  # a new episode on another SKU
            sku = markets[int(rng.integers(len(markets)))]
            market = Market(sku, rng)
            state = market.reset()
            scale = sku.reference_price * float(np.exp(sku.log_level))
        if len(memory) >= config.batch:
            batch = random.sample(memory, config.batch)
            states = torch.from_numpy(np.stack([b[0] for b in batch]))
            actions = torch.tensor([b[1] for b in batch])
            rewards = torch.tensor([b[2] for b in batch], dtype=torch.float32)
            nexts = torch.from_numpy(np.stack([b[3] for b in batch]))
            with torch.no_grad():
                # Double DQN: the online net picks the next action, the target net values it.
                best = online(nexts).argmax(dim=1, keepdim=True)
                targets = rewards + config.gamma * target(nexts).gather(1, best).squeeze(1)
            values = online(states).gather(1, actions[:, None]).squeeze(1)
            loss = torch.nn.functional.smooth_l1_loss(values, targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if step % config.target_every == 0:
            target.load_state_dict(online.state_dict())
    online.eval()
    return online


def as_policy(network: Any) -> Any:
    import torch

    def policy(sku: SkuMarket, state: State) -> float:
        with torch.no_grad():
            action = int(network(torch.from_numpy(observe(sku, state))).argmax())
        return state.price * (1 + ACTIONS[action])

    return policy


def export_onnx(network: Any, path: Path) -> Path:
    """Q-network -> ONNX: input `state` [N, 5] (STATE_NAMES), output `q` [N, len(ACTIONS)]."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        network,
        (torch.zeros(1, len(STATE_NAMES)),),
        str(path),
        input_names=["state"],
        output_names=["q"],
        dynamic_axes={"state": {0: "n"}, "q": {0: "n"}},
        opset_version=17,
        dynamo=False,
    )
    return path

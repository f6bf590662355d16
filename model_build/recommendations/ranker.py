"""The Wide&Deep ranker (Cheng et al., 2016), trained with torch and exported to ONNX.

- Wide: crossed features, one learnt weight per (user-side value, item category) pair: occupation x genre,
  gender x genre, age band x genre, the user's top genre x genre (a user's file without attributes keeps
  only the last). It memorises which kinds of users take which kinds of items.
- Deep: user and item embeddings plus the dense features (`DENSE_FEATURES`: the candidate scores,
  popularity, the candidate's rank, category affinity, history length) through an MLP. It generalises.

Both are summed into one logit per candidate. Training lists come from the training part only: the
candidate models are refitted without each user's last `HELD_OUT` training interactions, and each of those
is a target ranked among its own candidates, with the history before it; the loss is a softmax over each
list (listwise). Nothing of the validation or test items is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.recommendations.features import (
    DENSE_FEATURES,
    RANKER_INPUTS,
    History,
    candidate_scores,
    generate_candidates,
    ranker_inputs,
)
from commerce_ai.recommendations.state import RecommenderState
from model_build.recommendations.data import Dataset
from model_build.recommendations.fitting import fit_state

CANDIDATES = 100  # how many candidates the generator hands the ranker per user
HELD_OUT = 6  # training lists per user: its last interactions of the training part, each a target
EMBEDDING = 16
EPOCHS = 6
SEED = 13


@dataclass(frozen=True)
class TrainingLists:
    inputs: dict[str, np.ndarray]  # each input stacked: [lists * CANDIDATES, ...]
    labels: np.ndarray  # int64 [lists], the target's position among its candidates
    n_lists: int


def holdout_split(interactions: pd.DataFrame, held_out: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordered = interactions.assign(_order=np.arange(len(interactions)))
    ordered = ordered.sort_values(["user_id", "timestamp", "_order"], kind="stable").drop(columns="_order")
    from_end = ordered.groupby("user_id", sort=False).cumcount(ascending=False)
    counts = ordered.groupby("user_id", sort=False)["item_id"].transform("size")
    keep_some = from_end >= np.minimum(held_out, counts - 1)
    return ordered[keep_some], ordered


def training_lists(dataset: Dataset, train: pd.DataFrame, held_out: int = HELD_OUT) -> TrainingLists:
    """Lists built from `train` only: the candidate models fitted without each user's last `held_out`
    interactions, each of those a target among CANDIDATES candidates generated from what preceded it."""
    fitted_on, ordered = holdout_split(train, held_out)
    state = fit_state(dataset, fitted_on)
    blocks: dict[str, list[np.ndarray]] = {name: [] for name in RANKER_INPUTS}
    labels: list[int] = []
    for user_id, group in ordered.groupby("user_id", sort=False):
        user = state.user_index(str(user_id))
        items = np.array([state.item_index(str(i)) for i in group["item_id"]], dtype=np.int64)
        first = max(1, len(items) - held_out)
        for position in range(first, len(items)):
            history = History.of(items[:position])
            seen = np.zeros(state.n_items, dtype=bool)
            seen[history.items] = True
            scores = candidate_scores(state, history)
            candidates = generate_candidates(state, scores, seen, CANDIDATES)
            where = np.flatnonzero(candidates == items[position])
            if len(where) == 0 or len(candidates) < CANDIDATES:
                continue  # the generator missed it: nothing for the ranker to learn from this list
            for name, value in ranker_inputs(state, user, history, scores, candidates).items():
                blocks[name].append(value)
            labels.append(int(where[0]))
    stacked = {name: np.concatenate(parts) for name, parts in blocks.items()}
    return TrainingLists(stacked, np.asarray(labels, dtype=np.int64), len(labels))


def wide_and_deep(state: RecommenderState) -> Any:
    import torch
    from torch import nn

    class WideAndDeep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            categories = len(state.category_names)
            crosses = [nn.Embedding(size, max(categories, 1)) for size in state.segment_sizes()]
            for cross in crosses:
                nn.init.zeros_(cross.weight)  # the wide part starts neutral and learns what memorising pays
            self.crosses = nn.ModuleList(crosses)
            self.users = nn.Embedding(state.n_users + 1, EMBEDDING)
            self.items = nn.Embedding(state.n_items + 1, EMBEDDING)
            for table in (self.users, self.items):
                nn.init.normal_(table.weight, std=0.01)
            self.scale = nn.BatchNorm1d(len(DENSE_FEATURES))
            self.deep = nn.Sequential(
                nn.Linear(2 * EMBEDDING + len(DENSE_FEATURES), 64),
                nn.ReLU(),
                nn.Linear(64, 32),
                nn.ReLU(),
                nn.Linear(32, 1),
            )

        def forward(
            self,
            user_index: torch.Tensor,
            item_index: torch.Tensor,
            dense: torch.Tensor,
            segments: torch.Tensor,
            categories: torch.Tensor,
        ) -> torch.Tensor:
            wide = torch.zeros_like(dense[:, :1])
            for b, cross in enumerate(self.crosses):
                wide = wide + (cross(segments[:, b]) * categories).sum(dim=1, keepdim=True)
            deep_in = torch.cat([self.users(user_index), self.items(item_index), self.scale(dense)], dim=1)
            return wide + self.deep(deep_in)

    return WideAndDeep()


def train_ranker(state: RecommenderState, lists: TrainingLists, epochs: int = EPOCHS) -> Any:
    """Listwise softmax over each list's candidates; Adam with weight decay on the embeddings."""
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    model = wide_and_deep(state)
    tensors = {name: torch.from_numpy(lists.inputs[name]) for name in RANKER_INPUTS}
    labels = torch.from_numpy(lists.labels)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-5)
    generator = torch.Generator().manual_seed(SEED)
    lists_per_batch = 64
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(lists.n_lists, generator=generator).split(lists_per_batch):
            rows = (batch[:, None] * CANDIDATES + torch.arange(CANDIDATES)[None, :]).reshape(-1)
            logits = model(*(tensors[name][rows] for name in RANKER_INPUTS)).reshape(len(batch), CANDIDATES)
            loss = torch.nn.functional.cross_entropy(logits, labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return model


def score_with_torch(model: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = model(*(torch.from_numpy(inputs[name]) for name in RANKER_INPUTS))
    return np.asarray(out.numpy()[:, 0])


def export_onnx(model: Any, state: RecommenderState, path: Path) -> Path:
    """`torch.onnx.export(..., dynamo=False)`: the TorchScript exporter (FIELD-NOTES) with a free batch axis."""
    import torch

    n = 3
    example = (
        torch.ones(n, dtype=torch.int64),
        torch.ones(n, dtype=torch.int64),
        torch.zeros(n, len(DENSE_FEATURES)),
        torch.zeros(n, len(state.segment_sizes()), dtype=torch.int64),
        torch.zeros(n, len(state.category_names)),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=RANKER_INPUTS,
        output_names=["score"],
        dynamic_axes={name: {0: "candidates"} for name in [*RANKER_INPUTS, "score"]},
        opset_version=17,
        dynamo=False,
    )
    return path

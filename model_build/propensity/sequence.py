"""The sequence challenger: a GRU over each user's last events before a cut-off, judged on the same
examples as the served XGBoost (`make eval` only; the build never trains it).

The design names an LSTM over the user's event sequence; a GRU is the same idea with fewer weights. Each
example is the user's last `MAX_EVENTS` events strictly before the cut-off, oldest first, one step per
event: the event type (one-hot over the stream's types), log days from the event to the cut-off, log days
since the user's previous event, log quantity and log amount (price x quantity). Two numbers the
truncation would hide join the GRU's last state: log events in the whole history and log days since the
first event. One network predicts both horizons (two outputs, summed binary cross-entropy).

Training uses the training cut-offs' examples; the validation cut-off chooses the epoch (early stopping on
its loss) and fits the Platt calibration, as for the booster; the holdout is scored once at the end. The
run is bounded: at most `EPOCHS` epochs and `BUDGET_SECONDS` of training, on one thread (the machine is
a shared 2-core box).

It ships only if it beats the tree on the holdout: serving would then need the raw event tail in the
profile, which it does not keep today, so `make eval` reports the verdict and the build serves XGBoost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from commerce_ai.stream.schema import EVENT_TYPES
from model_build.propensity.data import frame_events
from model_build.propensity.dataset import HORIZONS, Examples, Plan
from model_build.propensity.train import platt

if TYPE_CHECKING:
    import pandas

MAX_EVENTS = 32
STEP_FEATURES = len(EVENT_TYPES) + 4
HIDDEN = 32
EPOCHS = 12
PATIENCE = 3
BATCH = 512
LEARNING_RATE = 3e-3
BUDGET_SECONDS = 240.0
SEED = 7
DAY = 86_400.0


@dataclass(frozen=True)
class Sequences:
    """Per example (the same rows, in the same order, as `dataset.examples`): the event steps, their count
    and the two whole-history numbers."""

    steps: np.ndarray  # float32 [n, MAX_EVENTS, STEP_FEATURES], left-aligned, zero-padded
    lengths: np.ndarray  # int64 [n]
    history: np.ndarray  # float32 [n, 2]: log1p(events before the cut-off), log1p(days since the first)
    cutoff: np.ndarray  # epoch seconds [n]
    users: list[str]

    def rows(self, mask: np.ndarray) -> Sequences:
        return Sequences(
            self.steps[mask],
            self.lengths[mask],
            self.history[mask],
            self.cutoff[mask],
            [u for u, keep in zip(self.users, mask, strict=True) if keep],
        )


def sequences(
    frame: pandas.DataFrame, cutoffs: Sequence[datetime], skip_users: frozenset[str] = frozenset()
) -> Sequences:
    """One sequence per user seen before each cut-off, in `dataset.examples`' order (users as the frame sorts
    them, cut-offs ascending), so the rows line up with the booster's examples."""
    ordered = [c.timestamp() for c in sorted(cutoffs)]
    frame = frame.sort_values(["user_id", "timestamp", "event_id"], kind="stable")
    type_index = {t: i for i, t in enumerate(EVENT_TYPES)}
    blocks: list[np.ndarray] = []
    lengths: list[int] = []
    history: list[tuple[float, float]] = []
    times: list[float] = []
    users: list[str] = []

    def flush(user: str | None, events: list[tuple[float, int, float, float]]) -> None:
        if user is None or user in skip_users or not events:
            return
        stamps = np.array([e[0] for e in events])
        rows = np.zeros((len(events), STEP_FEATURES), dtype=np.float32)
        rows[np.arange(len(events)), [e[1] for e in events]] = 1.0
        gaps = np.diff(stamps, prepend=stamps[0]) / DAY
        rows[:, len(EVENT_TYPES) + 1] = np.log1p(np.maximum(gaps, 0))
        rows[:, len(EVENT_TYPES) + 2] = np.log1p([e[2] for e in events])
        rows[:, len(EVENT_TYPES) + 3] = np.log1p([e[3] for e in events])
        for edge in ordered:
            count = int(np.searchsorted(stamps, edge, side="left"))  # events strictly before the cut-off
            if count == 0:
                continue
            start = max(0, count - MAX_EVENTS)
            block = np.zeros((MAX_EVENTS, STEP_FEATURES), dtype=np.float32)
            block[: count - start] = rows[start:count]
            block[: count - start, len(EVENT_TYPES)] = np.log1p((edge - stamps[start:count]) / DAY)
            blocks.append(block)
            lengths.append(count - start)
            history.append((np.log1p(count), np.log1p((edge - stamps[0]) / DAY)))
            times.append(edge)
            users.append(user)

    current: str | None = None
    mine: list[tuple[float, int, float, float]] = []
    for event in frame_events(frame):
        if event.user_id != current:
            flush(current, mine)
            current, mine = event.user_id, []
        quantity = float(event.quantity or 1)
        mine.append(
            (event.timestamp.timestamp(), type_index[event.event_type], quantity, (event.price or 0.0) * quantity)
        )
    flush(current, mine)
    return Sequences(
        np.stack(blocks) if blocks else np.zeros((0, MAX_EVENTS, STEP_FEATURES), dtype=np.float32),
        np.asarray(lengths, dtype=np.int64),
        np.asarray(history, dtype=np.float32).reshape(-1, 2),
        np.asarray(times, dtype=np.float64),
        users,
    )


def _network() -> Any:
    import torch
    from torch import nn

    class GruPropensity(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(STEP_FEATURES, HIDDEN, batch_first=True)
            self.head = nn.Sequential(nn.Linear(HIDDEN + 2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, len(HORIZONS)))

        def forward(self, steps: torch.Tensor, lengths: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
            packed = nn.utils.rnn.pack_padded_sequence(steps, lengths, batch_first=True, enforce_sorted=False)
            _, last = self.gru(packed)
            return self.head(torch.cat([last[-1], history], dim=1))  # logits [n, len(HORIZONS)]

    return GruPropensity()


@dataclass(frozen=True)
class Challenger:
    """The GRU's calibrated holdout probabilities per horizon and how its training went."""

    holdout_probability: dict[int, np.ndarray]
    validation_probability: dict[int, np.ndarray]  # calibrated on validation itself: for blends in the study
    epochs: int
    best_epoch: int
    seconds: float
    stopped_by_budget: bool


def _standardise(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """Scale the continuous step inputs by the training steps' spread (one-hot columns left as they are)."""
    continuous = slice(len(EVENT_TYPES), STEP_FEATURES)
    filled = train[:, :, continuous][train[:, :, : len(EVENT_TYPES)].sum(axis=2) > 0]
    mean, std = filled.mean(axis=0), filled.std(axis=0) + 1e-6
    out = []
    for block in (train, *others):
        scaled = block.copy()
        scaled[:, :, continuous] = (scaled[:, :, continuous] - mean) / std
        scaled[block[:, :, : len(EVENT_TYPES)].sum(axis=2) == 0] = 0.0  # padding stays zero
        out.append(scaled)
    return out


def train_challenger(
    frame: pandas.DataFrame, plan: Plan, data: Examples, skip_users: frozenset[str] = frozenset()
) -> Challenger:
    """Fit the GRU on the training cut-offs, stop and calibrate on validation, score the holdout."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    seqs = sequences(frame, [*plan.training, plan.validation, plan.holdout], skip_users)
    if seqs.users != data.users or not np.array_equal(seqs.cutoff, data.cutoff):
        raise RuntimeError("the sequences and the booster's examples are not the same rows")
    labels = np.column_stack([data.labels[h] for h in HORIZONS]).astype(np.float32)
    parts = {
        "train": seqs.cutoff < plan.validation.timestamp(),
        "validation": seqs.cutoff == plan.validation.timestamp(),
        "holdout": seqs.cutoff == plan.holdout.timestamp(),
    }
    steps = dict(zip(parts, _standardise(*(seqs.steps[m] for m in parts.values())), strict=True))
    tensors = {
        name: (
            torch.from_numpy(steps[name]),
            torch.from_numpy(seqs.lengths[mask]),
            torch.from_numpy(seqs.history[mask]),
            torch.from_numpy(labels[mask]),
        )
        for name, mask in parts.items()
    }
    network = _network()
    optimiser = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    loss_of = torch.nn.BCEWithLogitsLoss()

    def logits(name: str) -> torch.Tensor:
        s, n, h, _ = tensors[name]
        network.eval()
        with torch.no_grad():
            return torch.cat(
                [network(s[i : i + 4096], n[i : i + 4096], h[i : i + 4096]) for i in range(0, len(n), 4096)]
            )

    started = time.perf_counter()
    best: tuple[float, int, dict[str, Any]] | None = None
    generator = torch.Generator().manual_seed(SEED)
    epoch = 0
    stopped_by_budget = False
    for epoch in range(1, EPOCHS + 1):
        network.train()
        s, n, h, y = tensors["train"]
        for batch in torch.randperm(len(n), generator=generator).split(BATCH):
            optimiser.zero_grad()
            loss = loss_of(network(s[batch], n[batch], h[batch]), y[batch])
            loss.backward()
            optimiser.step()
        validation_loss = float(loss_of(logits("validation"), tensors["validation"][3]))
        if best is None or validation_loss < best[0]:
            best = (validation_loss, epoch, {k: v.clone() for k, v in network.state_dict().items()})
        if epoch - best[1] >= PATIENCE:
            break
        if time.perf_counter() - started > BUDGET_SECONDS:
            stopped_by_budget = epoch < EPOCHS
            break
    assert best is not None
    network.load_state_dict(best[2])
    validation_p = torch.sigmoid(logits("validation")).numpy().astype(np.float64)
    holdout_p = torch.sigmoid(logits("holdout")).numpy().astype(np.float64)
    probability, on_validation = {}, {}
    for i, days in enumerate(HORIZONS):
        calibration = platt(validation_p[:, i], data.labels[days][parts["validation"]])
        probability[days] = calibration.apply(holdout_p[:, i])
        on_validation[days] = calibration.apply(validation_p[:, i])
    return Challenger(probability, on_validation, epoch, best[1], time.perf_counter() - started, stopped_by_budget)

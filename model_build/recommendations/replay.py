"""The session weighting on a replay of users' last sessions (`make eval`, reports/recommendations.md).

For each user, the target is the protocol's validation item (the one before their last interaction; the test
item is left out of everything) or its test item (their last interaction). Their last session before it
(walking back from the interaction before the target while consecutive interactions are at most
`SESSION_GAP` apart, at most the session's `MAX_RECENT` items, always leaving `MIN_LONG_TERM` interactions
before it) is taken out of the model's data: the candidate models and the Wide&Deep ranker are fitted on
everything before the sessions, as a build that ran before those sessions began would be. The session then
comes back as the live path brings it, one `rating` event at a time through the consumer's
`session.apply_event`, and the user is served through `engine.recommend` itself (the same blend as `GET
/recommendations`) at the target's time, so a session hours or days old has faded by the documented time
decay. The sweep scales the session items' weights (`session_weight`: 0 = the model alone); MMR and
exploration are off (lambda 1, no slots) so that only the blend changes. The served weight
(`engine.SESSION_WEIGHT`) is the validation replay's best (`choose`); the test replay only reports.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from commerce_ai.recommendations import engine
from commerce_ai.recommendations.features import candidate_scores, generate_candidates
from commerce_ai.recommendations.model import ServedModel
from commerce_ai.recommendations.session import MAX_RECENT, SESSION_HALF_LIFE, SessionState, apply_event
from commerce_ai.stream.schema import BehaviourEvent
from model_build.recommendations import protocol, ranker
from model_build.recommendations.data import Dataset, leave_last_out
from model_build.recommendations.fitting import fit_state

SESSION_GAP = SESSION_HALF_LIFE  # interactions further apart than this start a new session
MIN_LONG_TERM = 5  # interactions kept before the session, so that every user has a long-term profile
WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TARGETS = ("validation", "test")


@dataclass(frozen=True)
class Sessions:
    before: pd.DataFrame  # what the models are fitted on: every user's interactions before their session
    sessions: dict[str, list[tuple[str, float]]]  # user -> (item, unix time), oldest first
    targets: dict[str, tuple[str, float]]  # user -> the test item and its time


def last_sessions(interactions: pd.DataFrame, target: str = "test") -> Sessions:
    """Split each user's interactions (ordered as the protocol orders them) into the part before their last
    session, that session and the target: the test item, or the validation item (each user's test item is
    then left out first, so that nothing after the validation item is seen). Users with too few
    interactions keep everything."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    if target == "validation":
        _, _, test = leave_last_out(interactions)
        interactions = interactions.drop(index=test.index)
    ordered = interactions.assign(_order=np.arange(len(interactions)))
    ordered = ordered.sort_values(["user_id", "timestamp", "_order"], kind="stable")
    keep: list[np.ndarray] = []
    sessions: dict[str, list[tuple[str, float]]] = {}
    targets: dict[str, tuple[str, float]] = {}
    for user, rows in ordered.groupby("user_id", sort=False):
        items = rows["item_id"].astype(str).to_numpy()
        times = rows["timestamp"].to_numpy(dtype=np.float64)
        n = len(items)
        if n < MIN_LONG_TERM + 2:
            keep.append(rows.index.to_numpy())
            continue
        start = n - 2  # the interaction before the test item opens the session, walking back
        while start - 1 >= MIN_LONG_TERM and (n - 1) - (start - 1) <= MAX_RECENT:
            if times[start] - times[start - 1] > SESSION_GAP:
                break
            start -= 1
        keep.append(rows.index.to_numpy()[:start])
        sessions[str(user)] = [(str(items[i]), float(times[i])) for i in range(start, n - 1)]
        targets[str(user)] = (str(items[-1]), float(times[-1]))
    before = ordered.loc[np.concatenate(keep)].drop(columns="_order")
    return Sessions(before, sessions, targets)


def session_state(user: str, session: list[tuple[str, float]]) -> SessionState:
    """The user's session as the consumer keeps it: each interaction a `rating` event, applied in order."""
    state = SessionState()
    for n, (item, at) in enumerate(session):
        event = BehaviourEvent(
            event_id=f"replay-{user}-{n}",
            user_id=user,
            session_id=f"replay-{user}",
            event_type="rating",
            timestamp=datetime.fromtimestamp(at, tz=UTC),
            item_id=item,
            value=1.0,
        )
        state = apply_event(state, event)
    return state


@dataclass(frozen=True)
class Replay:
    target: str  # "validation" or "test"
    ranker: dict[float, protocol.Scores]  # session weight -> the served ranker's scores
    generator: dict[float, protocol.Scores]  # session weight -> the candidate generator's alone (may be empty)
    fresh: dict[float, protocol.Scores]  # the ranker, for users whose test item came within SESSION_GAP
    users: int
    fresh_users: int
    session_sizes: np.ndarray
    seconds: float


def replay(
    dataset: Dataset, weights: tuple[float, ...] = WEIGHTS, target: str = "test", with_generator: bool = True
) -> Replay:
    """Replay each user's last session before their `target` item at each session weight; the candidate
    generator alone too when `with_generator` (the validation replay, which only chooses, leaves it out)."""
    import onnxruntime as ort

    started = time.monotonic()
    split = last_sessions(dataset.interactions, target)
    state = fit_state(dataset, split.before)
    lists = ranker.training_lists(dataset, split.before)
    model = ranker.train_ranker(state, lists)
    with tempfile.TemporaryDirectory(prefix="recommendations-replay-") as work:
        path = ranker.export_onnx(model, state, Path(work) / "ranker.onnx")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    served = ServedModel("replay", session, state)

    users = sorted(split.sessions, key=lambda u: state.user_index(u) or 0)
    stage = _stage(state, users, split)
    fresh_users = [u for u in users if split.targets[u][1] - split.sessions[u][-1][1] <= SESSION_GAP]
    fresh_stage = _stage(state, fresh_users, split)
    states = {u: session_state(u, split.sessions[u]) for u in users}
    by_ranker: dict[float, protocol.Scores] = {}
    by_generator: dict[float, protocol.Scores] = {}
    fresh: dict[float, protocol.Scores] = {}
    for weight in weights:
        ranked: dict[str, np.ndarray] = {}
        generated = []
        for user in users:
            now = split.targets[user][1]
            outcome = engine.recommend(
                served, user, states[user], now, protocol.TOP_K, _no_catalogue,
                mmr_weight=1.0, exploration_share=0.0, session_weight=weight,
            )  # fmt: skip
            ranked[user] = np.array([state.item_index(item.item_id) for item in outcome.items], dtype=np.int64)
            if with_generator:
                history, _ = engine.user_history(state, user, states[user], now, session_weight=weight)
                excluded = engine.excluded_mask(state, user, history, states[user])
                scores = candidate_scores(state, history)
                generated.append(generate_candidates(state, scores, excluded, protocol.TOP_K))
        by_ranker[weight] = protocol.scores_of(stage, [ranked[u] for u in users])
        if with_generator:
            by_generator[weight] = protocol.scores_of(stage, generated)
        fresh[weight] = protocol.scores_of(fresh_stage, [ranked[u] for u in fresh_users])
    sizes = np.array([len(split.sessions[u]) for u in users])
    elapsed = time.monotonic() - started
    return Replay(target, by_ranker, by_generator, fresh, len(users), len(fresh_users), sizes, elapsed)


def choose(result: Replay) -> float:
    """The session weight the served ranker scores best at on the replay (HR@10, then NDCG@10, then the
    lighter weight): what `engine.SESSION_WEIGHT` is set to from the validation replay."""
    return max(result.ranker, key=lambda w: (result.ranker[w].hr, result.ranker[w].ndcg, -w))


def _no_catalogue(ids: list[str]) -> dict[str, Any]:
    return {}


def _stage(state: Any, users: list[str], split: Sessions) -> protocol.Stage:
    indices = np.array([state.user_index(u) for u in users], dtype=np.int64)
    targets = np.array([state.item_index(split.targets[u][0]) for u in users], dtype=np.int64)
    return protocol.Stage("replay", state, indices, targets)

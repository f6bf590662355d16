"""Turn a simulated event stream into the model's training data by replaying it through serving's code.

Every login and payment goes, in time order, through `commerce_ai.risk.velocity` (the same updates the
scoring handler writes to DynamoDB, here applied to dicts), and each payment's features come from
`commerce_ai.risk.features.payment_features` with the state as it was just before it. Graph features
come from weekly snapshots, as the weekly job publishes them: the snapshot a payment sees was built at
the start of its week from earlier payments, with the fraud labels known by then (a payment's label
arrives `label_delay` after it, as chargebacks do).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd
from tqdm import tqdm

from commerce_ai.risk.decisions import RuleConfig, rules_decline
from commerce_ai.risk.features import FEATURE_NAMES, RULE_SIGNALS, payment_features, rule_inputs
from commerce_ai.risk.graph import Edge, GraphSnapshot, build_snapshot
from commerce_ai.risk.velocity import Item, apply, login_updates, payment_updates
from commerce_ai.risk.weekly import GRAPH_WINDOW
from model_build.risk.simulator import Simulation

WEEK = 7 * 86400
LABEL_DELAY = timedelta(days=3)
RULES = RuleConfig()  # the rules that ship by default (no block lists in the simulator)


@dataclass(frozen=True)
class Dataset:
    """One row per payment: features (FEATURE_NAMES), label, scenario, time (epoch s), ids, and what the
    rules read besides the features (RULE_SIGNALS), as serving computed them before the payment."""

    features: np.ndarray
    is_fraud: np.ndarray
    scenario: np.ndarray
    time: np.ndarray
    payments: pd.DataFrame  # the simulator's payment rows, aligned with `features`
    rule_signals: np.ndarray  # [n, len(RULE_SIGNALS)]

    def rows(self, mask: np.ndarray) -> Dataset:
        return Dataset(
            self.features[mask],
            self.is_fraud[mask],
            self.scenario[mask],
            self.time[mask],
            self.payments[mask].reset_index(drop=True),
            self.rule_signals[mask],
        )

    def rule_inputs(self, row: int) -> dict[str, float]:
        """What the rules decide on for payment `row`: its features and rule signals by name."""
        named = dict(zip(FEATURE_NAMES, (float(v) for v in self.features[row]), strict=True))
        return {**named, **dict(zip(RULE_SIGNALS, (float(v) for v in self.rule_signals[row]), strict=True))}


def snapshot_at(payments: pd.DataFrame, times: np.ndarray, cutoff: float, label_delay: float) -> GraphSnapshot:
    """The graph the weekly job would build at `cutoff`: payments of the GRAPH_WINDOW before it, with the
    labels known by then."""
    before = (times < cutoff) & (times >= cutoff - GRAPH_WINDOW.total_seconds())
    known_fraud = payments["is_fraud"].to_numpy() & (times < cutoff - label_delay)
    edges = (
        Edge(u, d, i, m, bool(f))
        for u, d, i, m, f in zip(
            payments["user_id"].to_numpy()[before],
            payments["device_id"].to_numpy()[before],
            payments["ip"].to_numpy()[before],
            payments["merchant_id"].to_numpy()[before],
            known_fraud[before],
            strict=True,
        )
    )
    return build_snapshot(edges, built_at=str(pd.Timestamp(cutoff, unit="s", tz="UTC")))


def replay(simulation: Simulation, label_delay: timedelta = LABEL_DELAY, progress: bool = True) -> Dataset:
    events = simulation.events()
    payments = simulation.payments.sort_values("timestamp", kind="mergesort").reset_index(drop=True)
    times = events["timestamp"].map(lambda t: t.timestamp()).to_numpy(dtype=np.float64)
    payment_times = payments["timestamp"].map(lambda t: t.timestamp()).to_numpy(dtype=np.float64)
    start = float(simulation.config.start.timestamp())
    delay = label_delay.total_seconds()

    store: dict[str, Item] = {}
    rows: dict[str, list[float]] = {}
    signals: dict[str, list[float]] = {}
    graph = GraphSnapshot(built_at="empty", payments=0)
    week = 0
    columns = (
        "event_type",
        "transaction_id",
        "user_id",
        "device_id",
        "ip",
        "merchant_id",
        "amount",
        "lat",
        "lon",
        "success",
    )
    records = zip(*(events[c].to_numpy() for c in columns), times, strict=True)
    for kind, txn, user, device, ip, merchant, amount, lat, lon, success, now in tqdm(
        records, total=len(events), desc="replaying events", unit=" event", disable=not progress, mininterval=2
    ):
        if now >= start + (week + 1) * WEEK:
            week = int((now - start) // WEEK)
            graph = snapshot_at(payments, payment_times, start + week * WEEK, delay)
        if kind == "payment":
            row = payment_features(user, device, ip, merchant, amount, now, lat, lon, store, graph)
            rows[txn] = row
            inputs = rule_inputs(row, device, now, store)
            signals[txn] = [inputs[name] for name in RULE_SIGNALS]
            declined = rules_decline(amount, {}, inputs, RULES)
            updates = payment_updates(user, device, ip, merchant, amount, now, lat, lon, store, trusted=not declined)
        else:
            updates = login_updates(user, device, ip, bool(success), now, lat, lon, store)
        for update in updates:
            store[update.key] = apply(store.get(update.key), update)

    features = np.array([rows[t] for t in payments["transaction_id"]], dtype=np.float32)
    assert features.shape[1] == len(FEATURE_NAMES)
    return Dataset(
        features=features,
        is_fraud=payments["is_fraud"].to_numpy(dtype=bool),
        scenario=payments["scenario"].to_numpy(dtype=object),
        time=payment_times,
        payments=payments,
        rule_signals=np.array([signals[t] for t in payments["transaction_id"]], dtype=np.float32),
    )

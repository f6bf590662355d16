"""Scoring a payment and applying an account event: read state, compute features, decide, write.

Plain functions over the store and the loaded models, shared by the HTTP and queue handlers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.errors import InvalidInput
from commerce_ai.idempotency import request_digest, same_request
from commerce_ai.risk.currency import in_shop_currency
from commerce_ai.risk.decisions import Outcome, combine, post_model_rules, pre_model_rules, reasons
from commerce_ai.risk.features import RULE_SIGNALS, payment_features, rule_inputs
from commerce_ai.risk.graph import GraphSnapshot
from commerce_ai.risk.model import RiskModel
from commerce_ai.risk.schemas import AccountEvent, Transaction
from commerce_ai.risk.store import RiskStore, iso
from commerce_ai.risk.velocity import account_change_updates, entity_key, login_updates, payment_updates

MAX_AGE = timedelta(days=7)  # older events fall outside every velocity window
MAX_AHEAD = timedelta(minutes=5)  # clock skew allowed for a client's timestamp
NO_GRAPH = GraphSnapshot(built_at="none", payments=0)


@dataclass(frozen=True)
class Scored:
    transaction_id: str
    score: float
    decision: Outcome
    reasons: list[dict[str, Any]]
    model_version: str
    graph_version: str | None
    replayed: bool = False  # the transaction was scored before; this is that first answer
    published: bool = field(default=False, compare=False)

    def response(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "score": round(self.score, 6),
            "decision": self.decision,
            "reasons": self.reasons,
            "model_version": self.model_version,
            "graph_version": self.graph_version,
            "replayed": self.replayed,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Scored:
        return cls(
            transaction_id=str(item["transaction_id"]),
            score=float(item["score"]),
            decision=item["decision"],
            reasons=json.loads(item.get("reasons", "[]")),
            model_version=str(item.get("model_version", "")),
            graph_version=item.get("graph_version"),
            replayed=True,
            published=bool(item.get("published", False)),
        )


def _check_time(moment: datetime, now: datetime) -> float:
    if moment > now + MAX_AHEAD:
        raise InvalidInput("timestamp is in the future")
    if moment < now - MAX_AGE:
        raise InvalidInput(f"timestamp is more than {MAX_AGE.days} days old; it would count in no window")
    return moment.timestamp()


def score_transaction(
    transaction: Transaction,
    store: RiskStore,
    model: LoadedModel[RiskModel],
    graph: LoadedModel[GraphSnapshot] | None,
    now: datetime,
    channel: str,
    exchange_rates: Mapping[str, float] | None = None,
) -> Scored:
    """Score a payment once: a retried transaction_id gets its first answer back and counts once. Its amount
    counts in the shop's currency (converted at `exchange_rates`, or refused: commerce_ai.risk.currency)."""
    keys = {
        kind: entity_key(kind, identifier)  # type: ignore[arg-type]
        for kind, identifier in (
            ("user", transaction.user_id),
            ("device", transaction.device_id),
            ("ip", transaction.ip),
            ("merchant", transaction.merchant_id),
        )
    }
    digest = request_digest(transaction)
    ids = (transaction.user_id, transaction.device_id, transaction.ip, transaction.merchant_id)
    lat, lon = transaction.location.lat, transaction.location.lon
    states, stored = store.read(keys.values(), transaction.transaction_id)
    if stored is not None and "score" in stored:
        # A retry gets its first answer, however old the transaction is; another request with its id, a 409.
        same_request("transaction_id", transaction.transaction_id, stored.get("request_digest"), digest)
        if stored.get("applied") is False:
            # The first attempt stored its answer and died before its state writes were all done (a worker
            # killed mid-batch, a Lambda timeout): write them now, each at most once for this transaction.
            # (A result from before the flag has none and is taken as applied.)
            t = transaction.timestamp.timestamp()
            trusted = bool(stored.get("trusted", True))
            updates = payment_updates(*ids, float(stored["amount"]), t, lat, lon, states, trusted=trusted)
            store.finish_applying(transaction.transaction_id, updates, states, now)
        return Scored.from_item(stored)
    t = _check_time(transaction.timestamp, now)
    amount = in_shop_currency(transaction.amount, transaction.currency, exchange_rates or {})

    snapshot = graph.model if graph is not None else NO_GRAPH
    features = payment_features(*ids, amount, t, lat, lon, states, snapshot)
    policy = model.model.policy
    blocked = {kind: str(states[key]["blocked"]) for kind, key in keys.items() if "blocked" in states.get(key, {})}
    hits = pre_model_rules(amount, blocked, policy.rules)
    score, top = model.model.score(features)
    inputs = rule_inputs(features, transaction.device_id, t, states)
    hits += post_model_rules(amount, inputs, policy.rules)
    decision = combine(policy.thresholds.outcome(score), hits)
    scored = Scored(
        transaction.transaction_id,
        score,
        decision,
        reasons(hits, top),
        model.version,
        graph.version if graph is not None else None,
    )
    record = {
        "score": score,
        "decision": decision,
        "request_digest": digest,
        "reasons": json.dumps(scored.reasons, separators=(",", ":")),
        "model_version": model.version,
        "graph_version": scored.graph_version,
        "channel": channel,
        "scored_at": iso(now),
        "timestamp": iso(transaction.timestamp),
        "user_id": transaction.user_id,
        "device_id": transaction.device_id,
        "ip": transaction.ip,
        "merchant_id": transaction.merchant_id,
        "amount": amount,  # in the shop's currency
        "amount_as_sent": transaction.amount,
        "currency": transaction.currency,
        "features": " ".join(f"{v:.6g}" for v in features),
        "rule_signals": " ".join(f"{inputs[name]:.6g}" for name in RULE_SIGNALS),  # the challenger's rules read them
    }
    # Trust follows the rules' verdict alone, which the training replay reproduces (rules_decline).
    trusted = combine("approve", hits) != "decline"
    record["trusted"] = trusted  # a retry that finishes the state writes makes the same ones
    record["applied"] = False  # until every state write has landed (RiskStore.claim_and_apply)
    updates = payment_updates(*ids, amount, t, lat, lon, states, trusted=trusted)
    if not store.claim_and_apply(transaction.transaction_id, record, now, updates, states):
        first = store.result(transaction.transaction_id)  # a concurrent duplicate won the claim
        same_request("transaction_id", transaction.transaction_id, first.get("request_digest"), digest)
        return Scored.from_item(first)
    return scored


def record_account_event(event: AccountEvent, store: RiskStore, now: datetime, event_id: str | None) -> bool:
    """Apply an account event to the velocity state: a login (failed ones count, a successful one opens a
    session) or an account change (counted for a day); a logout changes nothing. False if `event_id` was
    applied before, or the event changes nothing; a 409 if `event_id` was applied for a different event.

    With an id, the mark that it was applied and the state changes are written in one transaction: a
    throttle, a timeout or a crash between them can no longer leave the mark without the change, which
    made the retry answer "already applied" and lost the event."""
    t = _check_time(event.timestamp, now)
    if event.event_type == "logout":
        return False
    keys = [entity_key("user", event.user_id), entity_key("device", event.device_id), entity_key("ip", event.ip)]
    states, _ = store.read(keys)
    lat, lon = event.location.lat, event.location.lon
    if event.event_type == "login":
        updates = login_updates(event.user_id, event.device_id, event.ip, event.success, t, lat, lon, states)
    else:
        updates = account_change_updates(event.user_id, t, states)
    if event_id is None:
        store.apply(updates, states, now)
        return True
    digest = request_digest(event)
    claimed_by = store.apply_event_once(event_id, digest, now, updates, states)
    if claimed_by is None:
        return True
    same_request("event_id", event_id, claimed_by, digest)
    return False

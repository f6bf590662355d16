"""What risk handlers share: the store, the served model and graph, the outcomes queue; built once per
container."""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from typing import Any

from commerce_ai import aws
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import InvalidInput, ModelUnavailable
from commerce_ai.risk.contract import BLOCKABLE, BlockKind
from commerce_ai.risk.currency import parse_rates
from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.graph import GraphSnapshot, KeyMismatch
from commerce_ai.risk.model import GRAPH_NAME, MODEL_NAME, RiskModel, open_graph, open_risk_model
from commerce_ai.risk.pseudonyms import serving_key
from commerce_ai.risk.schemas import IDENTIFIER, Transaction, normalise_ip
from commerce_ai.risk.scoring import Scored, score_transaction
from commerce_ai.risk.settings import settings
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import entity_key
from commerce_ai.telemetry import logger


@cache
def store() -> RiskStore:
    return RiskStore(settings().need("risk_state_table"), settings().need("risk_results_table"))


@cache
def model_loader() -> ModelLoader[RiskModel]:
    return ModelLoader(MODEL_NAME, expected_features=FEATURE_NAMES, opener=open_risk_model)


@cache
def graph_loader() -> ModelLoader[GraphSnapshot]:
    return ModelLoader(GRAPH_NAME, opener=open_graph)


def graph() -> LoadedModel[GraphSnapshot] | None:
    """The active graph snapshot; without one, scoring goes on with neutral graph features (and says so
    with `graph_version: null`) rather than stopping checkout."""
    try:
        loaded = graph_loader().get()
    except ModelUnavailable:
        logger.warning("no risk-graph snapshot can be served; graph features are neutral")
        return None
    try:
        loaded.model.with_key(serving_key())  # looks raw ids up by their pseudonyms (commerce_ai.risk.pseudonyms)
    except KeyMismatch:
        logger.warning("the risk-graph snapshot was made with another pseudonym key; graph features are neutral")
        return None
    return loaded


def score(transaction: Transaction, now: datetime, channel: str) -> Scored:
    rates = parse_rates("RISK_EXCHANGE_RATES", settings().risk_exchange_rates or "")
    return score_transaction(transaction, store(), model_loader().get(), graph(), now, channel, rates)


def publish_outcome(scored: Scored) -> None:
    """Send a review/decline to the outcomes queue once: a redelivered transaction whose outcome was
    already sent is not sent again (at least once if the process dies between send and mark)."""
    if scored.decision == "approve" or scored.published:
        return
    aws.client("sqs").send_message(
        QueueUrl=settings().need("risk_outcomes_queue_url"), MessageBody=json.dumps(scored.response())
    )
    store().mark_published(scored.transaction_id)


def transaction_view(transaction_id: str) -> dict[str, Any]:
    """A scored transaction for the operators: decision, reasons in full and any confirmed label."""
    if not re.fullmatch(IDENTIFIER, transaction_id):
        raise InvalidInput("transaction_id is not valid")
    item = store().result(transaction_id)
    labelled = "label_is_fraud" in item
    return {
        "transaction_id": item["transaction_id"],
        "score": float(item["score"]),
        "decision": item["decision"],
        "reasons": json.loads(item.get("reasons", "[]")),
        "model_version": item.get("model_version"),
        "graph_version": item.get("graph_version"),
        "timestamp": item["timestamp"],
        "label": {"is_fraud": item["label_is_fraud"], "source": item.get("label_source")} if labelled else None,
    }


def blocked_entity(kind: str, identifier: str) -> tuple[BlockKind, str]:
    """The block list's (kind, id) for a path's kind and identifier; InvalidInput (400) says what is wrong.
    An IP is normalised, so `::ffff:…` spellings and leading zeros block the address they mean."""
    if kind not in BLOCKABLE:
        raise InvalidInput(f"kind must be one of {', '.join(BLOCKABLE)}")
    known: BlockKind = kind  # type: ignore[assignment]
    if known == "ip":
        try:
            return known, normalise_ip(identifier)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
    if not re.fullmatch(IDENTIFIER, identifier):
        raise InvalidInput(f"{kind} id is not valid")
    return known, identifier


def set_blocked(kind: BlockKind, identifier: str, reason: str | None) -> None:
    """Block the entity (`reason`) or unblock it (None): its payments are declined by `blocklist_<kind>`."""
    store().block(entity_key(kind, identifier), reason)


def blocklist(limit: int, cursor: str | None) -> tuple[list[dict[str, str]], str | None]:
    """A page of the block list: each entry's kind, id and reason."""
    entries, after = store().blocked(limit, cursor)
    page = []
    for key, reason in entries:
        kind, _, identifier = key.partition("#")
        page.append({"kind": kind, "id": identifier, "reason": reason})
    return page, after

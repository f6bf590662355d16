"""What risk handlers share: the store, the served model and graph, the outcomes queue; built once per
container."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

from commerce_ai import aws
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import ModelUnavailable
from commerce_ai.risk.features import FEATURE_NAMES
from commerce_ai.risk.graph import GraphSnapshot
from commerce_ai.risk.model import GRAPH_NAME, MODEL_NAME, RiskModel, open_graph, open_risk_model
from commerce_ai.risk.schemas import Transaction
from commerce_ai.risk.scoring import Scored, score_transaction
from commerce_ai.risk.settings import settings
from commerce_ai.risk.store import RiskStore
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
        return graph_loader().get()
    except ModelUnavailable:
        logger.warning("no risk-graph snapshot can be served; graph features are neutral")
        return None


def score(transaction: Transaction, now: datetime, channel: str) -> Scored:
    return score_transaction(transaction, store(), model_loader().get(), graph(), now, channel)


def publish_outcome(scored: Scored) -> None:
    """Send a review/decline to the outcomes queue once: a redelivered transaction whose outcome was
    already sent is not sent again (at least once if the process dies between send and mark)."""
    if scored.decision == "approve" or scored.published:
        return
    aws.client("sqs").send_message(
        QueueUrl=settings().need("risk_outcomes_queue_url"), MessageBody=json.dumps(scored.response())
    )
    store().mark_published(scored.transaction_id)

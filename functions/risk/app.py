"""Risk HTTP API (API Gateway -> Chalice): synchronous scoring at checkout and account events; confirmed
labels, transaction lookup and the block list need the admin key."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.errors import InvalidInput
from commerce_ai.http import json_api, parse_body, require_admin
from commerce_ai.risk import service
from commerce_ai.risk.schemas import IDENTIFIER, AccountEvent, Label, Transaction, normalise_ip
from commerce_ai.risk.scoring import record_account_event
from commerce_ai.risk.velocity import entity_key

app = json_api("risk")
BLOCKABLE = ("user", "device", "ip", "merchant")
SHOWN = ("transaction_id", "score", "decision", "model_version", "graph_version", "timestamp")


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    blocked: bool
    reason: str = Field(default="blocked by an admin", min_length=1, max_length=200)


@app.route("/risk/score", methods=["POST"])
def post_score() -> dict[str, Any]:
    transaction = parse_body(app.request(), Transaction)
    return service.score(transaction, datetime.now(UTC), "api").response()


@app.route("/risk/events", methods=["POST"])
def post_event() -> dict[str, Any]:
    event = parse_body(app.request(), AccountEvent)
    applied = record_account_event(event, service.store(), datetime.now(UTC), event.event_id)
    return {"event_type": event.event_type, "applied": applied}


@app.route("/risk/labels", methods=["POST"])
def post_label() -> dict[str, Any]:
    # Labels train the next model and feed the graph's fraud rates: only the chargeback or case system
    # (holding the admin key) may write them.
    require_admin(app.request())
    label = parse_body(app.request(), Label)
    now = datetime.now(UTC)
    service.store().label(label.transaction_id, label.is_fraud, label.source, label.reported_at or now)
    return {"transaction_id": label.transaction_id, "is_fraud": label.is_fraud, "stored": True}


@app.route("/risk/transactions/{transaction_id}", methods=["GET"])
def get_transaction(transaction_id: str) -> dict[str, Any]:
    require_admin(app.request())  # scores and labels are for the operators, not for clients
    if not re.fullmatch(IDENTIFIER, transaction_id):
        raise InvalidInput("transaction_id is not valid")
    item = service.store().result(transaction_id)
    shown: dict[str, Any] = {k: item.get(k) for k in SHOWN}
    labelled = "label_is_fraud" in item
    shown["label"] = {"is_fraud": item["label_is_fraud"], "source": item.get("label_source")} if labelled else None
    return shown


@app.route("/risk/blocklist/{kind}/{identifier}", methods=["PUT"])
def put_block(kind: str, identifier: str) -> dict[str, Any]:
    require_admin(app.request())
    if kind not in BLOCKABLE:
        raise InvalidInput(f"kind must be one of {', '.join(BLOCKABLE)}")
    try:
        identifier = normalise_ip(identifier) if kind == "ip" else identifier
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if kind != "ip" and not re.fullmatch(IDENTIFIER, identifier):
        raise InvalidInput(f"{kind} id is not valid")
    request = parse_body(app.request(), BlockRequest)
    kind_literal: Literal["user", "device", "ip", "merchant"] = kind  # type: ignore[assignment]
    service.store().block(entity_key(kind_literal, identifier), request.reason if request.blocked else None)
    return {"kind": kind, "id": identifier, "blocked": request.blocked}

"""Risk HTTP API (API Gateway -> Chalice): synchronous scoring at checkout and account events; confirmed
labels, transaction lookup and the block list need the admin key."""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.http import json_api
from commerce_ai.idempotency import request_digest
from commerce_ai.paging import Page
from commerce_ai.risk import service
from commerce_ai.risk.contract import (
    BlockEntry,
    BlocklistQuery,
    BlockPath,
    BlockRequest,
    BlockState,
    EventApplied,
    LabelStored,
    ScoreResponse,
    TransactionPath,
    TransactionView,
)
from commerce_ai.risk.schemas import AccountEvent, Label, Transaction
from commerce_ai.risk.scoring import record_account_event

app = json_api("risk")


@app.route("/risk/score", methods=["POST"], request=Transaction, response=ScoreResponse, errors=(409, 503))
def post_score(body: Transaction) -> ScoreResponse:
    """Score a payment at checkout: approve, review or decline, with the reasons."""
    return ScoreResponse.model_validate(service.score(body, datetime.now(UTC), "api").response())


@app.route("/risk/events", methods=["POST"], request=AccountEvent, response=EventApplied, errors=(409,))
def post_event(body: AccountEvent) -> EventApplied:
    """Record a login, logout or account change for the velocity features."""
    applied = record_account_event(body, service.store(), datetime.now(UTC), body.event_id)
    return EventApplied(event_type=body.event_type, applied=applied)


@app.route("/risk/labels", methods=["POST"], request=Label, response=LabelStored, admin=True, errors=(404, 409))
def post_label(body: Label) -> LabelStored:
    """Store a scored transaction's confirmed outcome, once (admin: labels train the next model).

    A resent label answers as the first did; a different label for a labelled transaction is a 409."""
    labelled_at = body.reported_at or datetime.now(UTC)
    service.store().label(body.transaction_id, body.is_fraud, body.source, labelled_at, request_digest(body))
    return LabelStored(transaction_id=body.transaction_id, is_fraud=body.is_fraud, stored=True)


@app.route(
    "/risk/transactions/{transaction_id}",
    path_params=TransactionPath,
    methods=["GET"],
    response=TransactionView,
    admin=True,
    errors=(404,),
)
def get_transaction(transaction_id: str) -> TransactionView:
    """A scored transaction with its decision, reasons and label (admin: scores are for the operators)."""
    return TransactionView.model_validate(service.transaction_view(transaction_id))


@app.route(
    "/risk/blocklist/{kind}/{identifier}",
    path_params=BlockPath,
    methods=["PUT"],
    request=BlockRequest,
    response=BlockState,
    admin=True,
)
def put_block(kind: str, identifier: str, body: BlockRequest) -> BlockState:
    """Block or unblock a user, device, IP or merchant."""
    known, entity = service.blocked_entity(kind, identifier)
    service.set_blocked(known, entity, body.reason if body.blocked else None)
    return BlockState(kind=known, id=entity, blocked=body.blocked)


@app.route("/risk/blocklist", methods=["GET"], query=BlocklistQuery, response=Page[BlockEntry], admin=True)
def list_blocklist(query: BlocklistQuery) -> Page[BlockEntry]:
    """What is blocked, and why, paged (admin; a page may be short and still have a next_cursor)."""
    entries, cursor = service.blocklist(query.limit, query.cursor)
    return Page[BlockEntry](items=[BlockEntry.model_validate(e) for e in entries], next_cursor=cursor)

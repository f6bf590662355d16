"""Behaviour events HTTP API (API Gateway -> Chalice): `POST /events`, a batch of 1..100 events.

Glue only: the key check, the envelope, then `commerce_ai.stream.ingest` validates each event and
publishes the good ones to the topic. Answers 202 with the count accepted and each rejected event's
index, id and problems; a body that is not `{"events": [...]}` is a 400; an event id already taken in
for a different event is a 409 for the whole batch (`commerce_ai.stream.ingest.IdClaims`).
"""

from __future__ import annotations

from commerce_ai.http import json_api
from commerce_ai.stream.callers import shop_backend
from commerce_ai.stream.contract import EventsAccepted, RejectedEvent
from commerce_ai.stream.ingest import EventsBatch, IdClaims, Publisher, validate

app = json_api("stream")
publisher = Publisher()
claims = IdClaims()


@app.route(
    "/events",
    methods=["POST"],
    request=EventsBatch,
    responses={202: EventsAccepted},
    caller=shop_backend,
    errors=(409, 503),
)
def post_events(body: EventsBatch) -> EventsAccepted:
    """Take a batch of 1-100 behaviour events: each valid one is published to every consumer.

    A bad event never rejects its neighbours: it is listed in `rejected` with its problems. An event id
    already used for a different event is a 409 for the batch; a resent event is accepted again."""
    validated = validate(body.events)
    if validated.accepted:
        claims.claim(validated.accepted)
        publisher.publish(validated.accepted)
    return EventsAccepted(
        accepted=len(validated.accepted),
        rejected=[RejectedEvent.model_validate(r.as_json()) for r in validated.rejected],
    )

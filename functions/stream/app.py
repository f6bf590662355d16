"""Behaviour events HTTP API (API Gateway -> Chalice): `POST /events`, a batch of 1..100 events.

Glue only: the key check, the envelope, then `commerce_ai.stream.ingest` validates each event and
publishes the good ones to the topic. Answers 202 with the count accepted and each rejected event's
index, id and problems; a body that is not `{"events": [...]}` is a 400.
"""

from __future__ import annotations

from chalice.app import Request

from commerce_ai.http import admin_key, json_api, require_any_key, secure_parameter
from commerce_ai.stream import settings
from commerce_ai.stream.contract import EventsAccepted, RejectedEvent
from commerce_ai.stream.ingest import EventsBatch, Publisher, validate

app = json_api("stream")
publisher = Publisher()


def ingest_key() -> str:
    return secure_parameter(settings.ingest_key_parameter())


def producer(request: Request) -> None:
    """Events change what every consumer learns: producers send the ingest key (or the admin key)."""
    require_any_key(request, (ingest_key, admin_key), "ingest API key")


@app.route(
    "/events", methods=["POST"], request=EventsBatch, responses={202: EventsAccepted}, caller=producer, errors=(503,)
)
def post_events(body: EventsBatch) -> EventsAccepted:
    """Take a batch of 1-100 behaviour events: each valid one is published to every consumer.

    A bad event never rejects its neighbours: it is listed in `rejected` with its problems."""
    validated = validate(body.events)
    if validated.accepted:
        publisher.publish(validated.accepted)
    return EventsAccepted(
        accepted=len(validated.accepted),
        rejected=[RejectedEvent.model_validate(r.as_json()) for r in validated.rejected],
    )

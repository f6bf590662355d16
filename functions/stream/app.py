"""Behaviour events HTTP API (API Gateway -> Chalice): `POST /events`, a batch of 1..100 events.

Glue only: the key check, the envelope, then `commerce_ai.stream.ingest` validates each event and
publishes the good ones to the topic. Answers 202 with the count accepted and each rejected event's
index, id and problems; a body that is not `{"events": [...]}` is a 400.
"""

from __future__ import annotations

from typing import Any

from chalice import Response

from commerce_ai.http import admin_key, json_api, json_response, parse_body, require_any_key, secure_parameter
from commerce_ai.stream import settings
from commerce_ai.stream.ingest import EventsBatch, Publisher, validate

app = json_api("stream")
publisher = Publisher()


def ingest_key() -> str:
    return secure_parameter(settings.ingest_key_parameter())


@app.route("/events", methods=["POST"])
def post_events() -> Response:
    # Events change what every consumer learns: producers send the ingest key (or the admin key).
    require_any_key(app.request(), (ingest_key, admin_key), "ingest API key")
    batch = parse_body(app.request(), EventsBatch)
    validated = validate(batch.events)
    if validated.accepted:
        publisher.publish(validated.accepted)
    body: dict[str, Any] = {
        "accepted": len(validated.accepted),
        "rejected": [r.as_json() for r in validated.rejected],
    }
    return json_response(202, body)

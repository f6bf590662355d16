"""Taking behaviour events in: a batch validated event by event, the good ones published to the topic.

`POST /events` and the `BehaviourEventsQueue` consumer both come through here, so an event is valid or
not in the same way whichever door it used. A bad event never rejects its good neighbours: each one is
validated on its own and rejected with the fields and problems named (never the values, which may be
personal data).

The topic fans each accepted event out to one SQS queue per consumer. The message body is the event's
`to_record()` JSON (the subscriptions use raw message delivery, so consumers read it as the SQS body),
and its `event_type` travels as a message attribute, so a subscription can filter by type.

Before publishing, both doors claim the accepted events' ids in the stream ledger (`StreamLedgerTable`,
under the name `ingest`) with a digest of each event (`commerce_ai.idempotency`): a resent event passes
and is published again (harmless: every consumer applies an id once), while an id already taken in by a
different event is refused, a 409 for `POST /events` (the whole batch, nothing of it published, naming the
ids) and a failed record for the queue, so a producer learns of its reused id at the door instead of its
event vanishing into a consumer's DLQ. Two different events racing with one id in the same instant can
both pass the door; the consumers' ledgers still apply only the first and dead-letter the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from commerce_ai import aws
from commerce_ai.errors import CommerceError
from commerce_ai.idempotency import KeyReused, request_digest
from commerce_ai.stream import settings
from commerce_ai.stream.consumer import EventLedger, default_ledger
from commerce_ai.stream.schema import BehaviourEvent

MAX_BATCH_EVENTS = 100
PUBLISH_BATCH_ENTRIES = 10  # SNS PublishBatch's limit
INGEST_LEDGER = "ingest"  # the ledger's consumer name for the ids the doors took in
REUSED_IDS_NAMED = 10  # a 409 names at most this many of a batch's reused ids
PUBLISH_ATTEMPTS = 3  # an entry SNS failed on its side is sent again, at most this many times in all


class StreamUnavailable(CommerceError):
    """The topic did not take every accepted event; the caller retries (a re-sent event applies once)."""

    status_code = 503
    code = "ServiceUnavailableError"


class EventsBatch(BaseModel):
    """The body of `POST /events`: the envelope is strict, the events are checked one by one after it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    events: list[Any] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


@dataclass(frozen=True)
class Rejection:
    index: int
    event_id: str | None
    errors: list[dict[str, str]]

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "event_id": self.event_id, "errors": self.errors}


@dataclass
class Validated:
    accepted: list[BehaviourEvent] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def problems(exc: ValidationError) -> list[dict[str, str]]:
    """A validation error as `[{"field", "problem"}]`, without the input values."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(event)", "problem": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def validate(raw_events: Sequence[Any]) -> Validated:
    """Each raw event validated on its own; the index is its position in the batch."""
    result = Validated()
    for index, raw in enumerate(raw_events):
        try:
            result.accepted.append(BehaviourEvent.model_validate(raw))
        except ValidationError as exc:
            result.rejected.append(Rejection(index, _event_id_of(raw), problems(exc)))
        except RecursionError:
            result.rejected.append(
                Rejection(index, _event_id_of(raw), [{"field": "(event)", "problem": "nested too deeply"}])
            )
    return result


def _event_id_of(raw: Any) -> str | None:
    """The rejected event's id when it has a usable one, so the caller can tell which one it was."""
    event_id = raw.get("event_id") if isinstance(raw, dict) else None
    return event_id if isinstance(event_id, str) and 0 < len(event_id) <= 128 else None


def message_body(event: BehaviourEvent) -> str:
    return json.dumps(event.to_record(), separators=(",", ":"), ensure_ascii=False)


def _entry(entry_id: str, event: BehaviourEvent) -> dict[str, Any]:
    return {
        "Id": entry_id,
        "Message": message_body(event),
        "MessageAttributes": {"event_type": {"DataType": "String", "StringValue": event.event_type}},
    }


@dataclass
class Publisher:
    """Publishes events to the behaviour-events topic, ten per PublishBatch call."""

    topic_arn_source: Callable[[], str] = settings.topic_arn
    sns: Any = None  # tests inject a fake; else the shared client

    def publish(self, events: Sequence[BehaviourEvent]) -> int:
        """Publish every event or raise StreamUnavailable; returns how many PublishBatch calls it took."""
        client = self.sns or aws.client("sns")
        topic = self.topic_arn_source()
        calls = 0
        for start in range(0, len(events), PUBLISH_BATCH_ENTRIES):
            pending = {str(i): event for i, event in enumerate(events[start : start + PUBLISH_BATCH_ENTRIES])}
            for _ in range(PUBLISH_ATTEMPTS):
                response = client.publish_batch(
                    TopicArn=topic, PublishBatchRequestEntries=[_entry(i, e) for i, e in pending.items()]
                )
                calls += 1
                failed = {f["Id"] for f in response.get("Failed", [])}
                sender_faults = [f for f in response.get("Failed", []) if f.get("SenderFault")]
                if sender_faults:  # our own mistake (too big, say): retrying cannot help
                    raise StreamUnavailable(
                        f"the topic refused {len(sender_faults)} event(s): {sender_faults[0].get('Code')}"
                    )
                pending = {i: e for i, e in pending.items() if i in failed}
                if not pending:
                    break
            if pending:
                raise StreamUnavailable(f"the topic did not take {len(pending)} event(s); send the batch again")
        return calls

    def publish_one(self, event: BehaviourEvent) -> None:
        self.publish([event])


@dataclass
class IdClaims:
    """The ids taken in at the doors, each with its event's digest (module docstring)."""

    ledger_source: Callable[[], EventLedger] = default_ledger

    def claim(self, events: Sequence[BehaviourEvent]) -> None:
        """Claim every event's id for its event, or raise KeyReused (a 409) naming the ids that an earlier
        or a neighbouring event already holds with a different body; nothing is claimed then. Costs one
        BatchGetItem per 100 events and one BatchWriteItem per 25 new ids."""
        digests: dict[str, str] = {}
        reused: list[str] = []
        for event in events:
            digest = request_digest(event)
            if digests.setdefault(event.event_id, digest) != digest:
                reused.append(event.event_id)  # the same id twice in one batch, with different bodies
        ledger = self.ledger_source()
        claimed = ledger.applied_many(INGEST_LEDGER, digests)
        reused += [event_id for event_id, digest in claimed.items() if digest and digest != digests[event_id]]
        if reused:
            named = ", ".join(repr(i) for i in list(dict.fromkeys(reused))[:REUSED_IDS_NAMED])
            raise KeyReused(
                f"event_id {named} already used for a different event: a retry must resend the same event, "
                "and a new event needs a new event_id; nothing of this batch was published"
            )
        new = {event_id: digest for event_id, digest in digests.items() if event_id not in claimed}
        if new:
            ledger.record_many(INGEST_LEDGER, new)

"""The shared consumer of a behaviour-event subscription queue: exactly once in effect.

Every consumer of the stream has its own SQS queue subscribed to the topic (raw message delivery, so a
record's body is one event's JSON). SNS and SQS deliver at least once, and producers re-post events, so
a consumer sees some events twice. `EventConsumer` makes the second time change nothing:

1. each record is parsed into a `BehaviourEvent`; an invalid one is logged with its error type and the
   names of the fields at fault (never values) and reported as a partial batch failure, so it reaches
   the queue's DLQ after `maxReceiveCount` receives and never blocks the rest of its batch;
2. an event of a user erased at or after the event's time (the shop-wide erasure log, `commerce_ai.erasure`)
   is skipped, so an event still in flight when the user was erased does not bring their data back; the
   log is read once per batch for the batch's users (one BatchGetItem), not once per event;
3. an event id this consumer has already applied (its ledger entry exists) is skipped when the event is
   the same (the entry keeps a digest of it, `commerce_ai.idempotency`); a different event under that id
   fails its record with KeyReused (a 409's reason) and reaches the DLQ, never applied;
4. otherwise the consumer's `apply(event)` runs, and then the ledger records `(consumer, event_id)`
   with its digest, by a conditional put, kept for `LEDGER_DAYS`. The entry is written after the effect succeeds: an
   `apply` that fails leaves no entry, the record is retried, and the effect is tried again.

A crash between the effect and its ledger entry would apply the event again on redelivery, so an
`apply` should itself be safe to repeat where it can be (an upsert, a conditional write); the ledger
removes the common case (a redelivered or re-posted event) at the cost of one GetItem and one PutItem
per event. A consumer whose effect is idempotent already (the archive: deterministic object names, and
a reader that deduplicates) can pass `ledger=None`. A consumer that keeps nothing about a user (only
aggregates, or pseudonymous state that expires) can pass `erasures=None`; one that keeps the check needs
`USER_ERASURES_TABLE` and `dynamodb:BatchGetItem` on `UserErasuresTable`.

Usage, in a function whose queue is subscribed to `BehaviourEventsTopic`:

    consumer = EventConsumer("experiments", apply=record_exposure_or_outcome)

    @instrumented
    def handler(event, context):
        return consumer.handle(event, context)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai import aws
from commerce_ai.dynamodb_batches import batch_get, batch_write
from commerce_ai.erasure import ErasureLog
from commerce_ai.idempotency import request_digest, same_request
from commerce_ai.messages import QueueProcessor, parse_json
from commerce_ai.stream import settings
from commerce_ai.stream.schema import IDENTIFIER, BehaviourEvent
from commerce_ai.telemetry import logger

# Longer than any redelivery can come: SQS keeps a message at most 14 days (the DLQs' retention), so an
# event redriven from a DLQ on its last day is still recognised.
LEDGER_DAYS = 15
BATCH_GET_KEYS, BATCH_WRITE_ITEMS = 100, 25  # DynamoDB's limits per call


class EventLedger:
    """Which events a consumer has applied: one DynamoDB item per (consumer, event_id), with a TTL."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, ddb: Any = None, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._ddb = ddb
        self._clock = clock

    def applied(self, consumer: str, event_id: str) -> str | None:
        """None if the consumer has not applied the event; else the digest of the event it applied under
        that id (empty for an entry written before digests were kept)."""
        key = {"consumer": {"S": consumer}, "event_id": {"S": event_id}}
        item = self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return None if item is None else str(item.get("request_digest", {}).get("S", ""))

    def applied_many(self, consumer: str, event_ids: Iterable[str]) -> dict[str, str]:
        """`applied` for many ids, 100 per consistent BatchGetItem: the ids with an entry, each with the
        digest it was recorded with."""
        ids = list(dict.fromkeys(event_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ids), BATCH_GET_KEYS):
            keys = [{"consumer": {"S": consumer}, "event_id": {"S": i}} for i in ids[start : start + BATCH_GET_KEYS]]
            request = {self.table: {"Keys": keys, "ConsistentRead": True}}
            for responses in batch_get(self.ddb, request):
                for item in responses.get(self.table, []):
                    found[item["event_id"]["S"]] = str(item.get("request_digest", {}).get("S", ""))
        return found

    def record_many(self, consumer: str, digests: Mapping[str, str]) -> None:
        """Entries for many ids at once (BatchWriteItem, 25 a call), unconditionally: for a claim checked by
        `applied_many` just before, where a concurrent writer of the same id is caught downstream."""
        expires = str(int(self._clock()) + LEDGER_DAYS * 86_400)
        puts = [
            {
                "PutRequest": {
                    "Item": {
                        "consumer": {"S": consumer},
                        "event_id": {"S": event_id},
                        "request_digest": {"S": digest},
                        "expires_at": {"N": expires},
                    }
                }
            }
            for event_id, digest in digests.items()
        ]
        for start in range(0, len(puts), BATCH_WRITE_ITEMS):
            batch_write(self.ddb, {self.table: puts[start : start + BATCH_WRITE_ITEMS]})

    def record(self, consumer: str, event_id: str, digest: str = "") -> bool:
        """Note the event as applied, with its digest; False if an entry was already there (another
        delivery got there first)."""
        expires = int(self._clock()) + LEDGER_DAYS * 86_400
        item = {"consumer": {"S": consumer}, "event_id": {"S": event_id}, "expires_at": {"N": str(expires)}}
        if digest:
            item["request_digest"] = {"S": digest}
        return aws.put_if(
            self.ddb, TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(event_id)"
        )


def default_ledger() -> EventLedger:
    return EventLedger(settings.ledger_table())


def default_erasures() -> ErasureLog:
    return ErasureLog.from_settings()


def batch_values(event: dict[str, Any], name: str) -> set[str]:
    """The identifiers a queue batch's records carry in field `name` (`user_id`, `item_id`), read leniently:
    a record that is not an event, or a value that is not an identifier, is left out here and refused later
    by `parse_event`, with its fields named. For reads done once per batch instead of once per event."""
    values: set[str] = set()
    for record in event.get("Records") or []:
        try:
            value = json.loads(record.get("body") or "").get(name)
        except (ValueError, AttributeError):
            continue
        if isinstance(value, str) and re.fullmatch(IDENTIFIER, value):
            values.add(value)
    return values


def parse_event(body: str) -> BehaviourEvent:
    """One queue record's body as an event; InvalidInput when it is not one (QueueProcessor logs its fields,
    never values)."""
    return parse_json(body, BehaviourEvent, "behaviour event")


@dataclass
class EventConsumer:
    """A subscription queue's handler body: parse, skip what was applied, apply, record (module docstring)."""

    name: str
    apply: Callable[[BehaviourEvent], Any]
    ledger: Callable[[], EventLedger] | None = default_ledger
    erasures: Callable[[], ErasureLog] | None = default_erasures
    processor: QueueProcessor = field(default_factory=QueueProcessor)

    def record_handler(self, record: SQSRecord, erased: dict[str, datetime] | None = None) -> str:
        """One record: `erased`, `skipped` (applied before) or `applied`. `erased` maps the batch's erased
        users to their erasure time (`handle` reads it once per batch)."""
        event = parse_event(record.body)
        erased_at = (erased or {}).get(event.user_id)
        if erased_at is not None and event.timestamp <= erased_at:
            logger.info("behaviour event of an erased user", extra={"consumer": self.name})
            return "erased"
        ledger = self.ledger() if self.ledger is not None else None
        digest = request_digest(event)
        claimed = ledger.applied(self.name, event.event_id) if ledger is not None else None
        if claimed is not None:
            # A different event under an applied id fails its record (KeyReused, to the DLQ): applying it
            # would let whoever reuses an id overwrite or shadow another event; a resent one is skipped.
            same_request("event_id", event.event_id, claimed, digest)
            logger.info(
                "behaviour event already applied", extra={"consumer": self.name, "event_type": event.event_type}
            )
            return "skipped"
        self.apply(event)
        if ledger is not None:
            ledger.record(self.name, event.event_id, digest)
        return "applied"

    def handle(self, event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        # Per call, not on the instance: the local runner may run one handler in several threads.
        erased = self.erasures().erased_at_many(batch_values(event, "user_id")) if self.erasures is not None else {}
        return process_partial_response(
            event=event,
            record_handler=partial(self.record_handler, erased=erased),
            processor=self.processor,
            context=context,
        )

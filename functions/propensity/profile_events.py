"""SQS handler: behaviour events -> each user's profile in `UserProfilesTable` (commerce_ai.propensity.service).

`PropensityProfileEventsQueue` is subscribed to the behaviour-event topic (raw delivery: each record's
body is one event as JSON). It is consumed through the stream's `EventConsumer` with its ledger, so a
redelivered or re-posted event is skipped; the profile also remembers its last event ids, so an event
applied just before a crash (no ledger entry yet) is not folded twice either. An invalid record fails
alone and reaches the DLQ.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from commerce_ai.propensity import service
from commerce_ai.propensity.catalogue import facts_for_items
from commerce_ai.propensity.profile import ItemFacts
from commerce_ai.stream.consumer import EventConsumer, batch_values
from commerce_ai.stream.schema import BehaviourEvent
from commerce_ai.telemetry import instrumented, logger


def fold(event: BehaviourEvent, facts: dict[str, ItemFacts]) -> None:
    item_facts = facts.get(event.item_id) if event.item_id else None
    outcome = service.apply_event(event, time.time(), item_facts)
    logger.info("behaviour event folded into the profile", extra={"event_type": event.event_type, "outcome": outcome})


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # The batch's items are read from the catalogue at once (BatchGetItem), not one GetItem per event.
    facts = facts_for_items(batch_values(event, "item_id"))
    return EventConsumer(service.CONSUMER, apply=partial(fold, facts=facts)).handle(event, context)

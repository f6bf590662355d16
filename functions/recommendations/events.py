"""SQS handler: behaviour events -> each user's session state (recent items, exclusions, dismissed items,
unclicked impressions), which the next GET /recommendations blends in.

`RecommendationEventsQueue` is subscribed to the behaviour-event topic (raw delivery, filtered to the types
that change recommendations). It is consumed through the stream's `EventConsumer` with its ledger, so a
redelivered event (an impression counts!) applies once; an invalid record fails alone and reaches the DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from commerce_ai.recommendations.session import apply_event
from commerce_ai.recommendations.store import sessions
from commerce_ai.stream.consumer import EventConsumer
from commerce_ai.stream.schema import BehaviourEvent
from commerce_ai.telemetry import instrumented, logger


def remember(event: BehaviourEvent) -> None:
    sessions().update(event.user_id, lambda state: apply_event(state, event))
    logger.info("session state updated", extra={"event_type": event.event_type})


consumer = EventConsumer("recommendations", apply=remember)


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return consumer.handle(event, context)

"""SQS handler: behaviour events -> experiment exposures and outcomes (see commerce_ai.experiments.counting).

`ExperimentEventsQueue` is subscribed to the behaviour-event topic (raw delivery: each record's body is one
BehaviourEvent as JSON). It is consumed through the stream's shared `EventConsumer`, without its ledger:
counting is exactly once already, each count written in one conditional transaction with the fact it
counts, so a redelivered event counts once. An invalid record fails alone and reaches the DLQ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

from commerce_ai.experiments import service
from commerce_ai.stream.consumer import EventConsumer
from commerce_ai.stream.schema import BehaviourEvent
from commerce_ai.telemetry import instrumented, logger


def count(event: BehaviourEvent) -> None:
    applied = service.count([event], datetime.now(UTC))
    logger.info("behaviour event counted", extra={"event_type": event.event_type, **vars(applied)})


# erasures=None: experiments keep only aggregates and, per experiment, a pseudonymous user state (a hash of
# experiment and user id) that expires; skipping an erased user's in-flight events would bias the counts.
consumer = EventConsumer("experiments", apply=count, ledger=None, erasures=None)


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return consumer.handle(event, context)

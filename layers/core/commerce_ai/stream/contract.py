"""The bodies of the behaviour-event stream's HTTP API (`POST /events`), as the OpenAPI document shows them.

The request envelope is `commerce_ai.stream.ingest.EventsBatch`; each event in it is checked on its own
against `commerce_ai.stream.schema.BehaviourEvent`, so one bad event never rejects its neighbours.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.stream.ingest import MAX_BATCH_EVENTS

_OUT = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    model_config = _OUT

    field: str
    problem: str


class RejectedEvent(BaseModel):
    """An event that was not accepted: its place in the batch, its id if it had a readable one, and why."""

    model_config = _OUT

    index: int = Field(ge=0, lt=MAX_BATCH_EVENTS)
    event_id: str | None
    errors: list[FieldProblem]


class EventsAccepted(BaseModel):
    """How many events of the batch were accepted (and published to every consumer), and each rejected one."""

    model_config = _OUT

    accepted: int = Field(ge=0, le=MAX_BATCH_EVENTS)
    rejected: list[RejectedEvent] = Field(max_length=MAX_BATCH_EVENTS)

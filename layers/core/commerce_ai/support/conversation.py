"""A conversation's state, kept in SupportConversationsTable (one item per conversation, expiring after
`IDLE_TTL_SECONDS` of inactivity through DynamoDB TTL on `expires_at`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Timestamp

IDLE_TTL_SECONDS = 7 * 24 * 3600
MAX_TRANSCRIPT = 60  # messages kept (the oldest drop): an item stays far below DynamoDB's 400 KB
MAX_INTENT_HISTORY = 30
Role = Literal["customer", "bot", "agent"]
Channel = Literal["web", "app", "mini_program", "h5", "api"]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    text: str
    at: Timestamp
    intent: str | None = None
    emotion: float | None = None
    delivered: bool = True  # an agent's reply is False until the customer's channel has shown it


class ConversationState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    user_id: str
    channel: Channel
    language: Literal["en", "zh"] = "en"
    created_at: Timestamp
    updated_at: Timestamp
    expires_at: int  # epoch seconds, DynamoDB TTL
    intents: list[str] = Field(default_factory=list, max_length=MAX_INTENT_HISTORY)
    slots: dict[str, str] = Field(default_factory=dict)
    verified_order: str | None = None  # the order whose contact the customer gave: context for follow-ups
    form: str | None = None
    pending_slot: str | None = None
    fallbacks: int = 0  # in a row
    owner: Literal["bot", "agent"] = "bot"
    ticket_id: str | None = None
    # The customer's open WebSocket connection, where an agent's reply is pushed (None: the HTTP channel,
    # whose next exchange carries it in `agent_replies`).
    connection_id: str | None = None
    transcript: list[Message] = Field(default_factory=list, max_length=MAX_TRANSCRIPT)

    def add(self, message: Message) -> None:
        self.transcript = [*self.transcript, message][-MAX_TRANSCRIPT:]

    def remember(self, intent: str) -> None:
        self.intents = [*self.intents, intent][-MAX_INTENT_HISTORY:]


class Connection(BaseModel):
    """An open WebSocket connection: who was checked in at $connect, on which channel. Kept in
    SupportConversationsTable under `connection#<id>` until $disconnect, or API Gateway's two-hour limit
    on a connection (TTL)."""

    model_config = ConfigDict(extra="forbid")

    connection_id: str
    user_id: str
    channel: Channel
    connected_at: Timestamp

"""Customer service's HTTP contract: the bodies of the `/support` routes (README, "Customer service")."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from commerce_ai.api_fields import identifier_pattern
from commerce_ai.catalog.items import ITEM_ID
from commerce_ai.paging import PageQuery
from commerce_ai.support.conversation import Channel, ConversationState
from commerce_ai.support.faq import FAQ_ID, Localized, LocalizedQuestions, Topic
from commerce_ai.support.graph import RelationName

MAX_TEXT = 1000  # characters in one customer message (a chat line; longer is a 400)
ID = identifier_pattern("_.:-")  # conversation, ticket and user ids: path segments (api_fields)
# Control characters (other than tab and newlines) and U+FFFD (what a wrong decoding leaves behind) mean
# the text is binary or was sent in another encoding than UTF-8.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str | None = Field(default=None, pattern=ID, description="Omit to start a conversation.")
    user_id: str = Field(pattern=ID, description="The shop's id of the signed-in customer.")
    text: str = Field(min_length=1, max_length=MAX_TEXT, description=f"1-{MAX_TEXT} characters of UTF-8 text.")
    channel: Channel = "api"

    @field_validator("text")
    @classmethod
    def _readable(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("text is empty")
        if _UNREADABLE.search(text):
            raise ValueError("text holds control characters or undecodable bytes: send UTF-8 text")
        return text


class MessageOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    new_conversation: bool
    notice: str | None = Field(description="Why a new conversation was started for a conversation id sent.")
    reply: str = Field(description="The bot's answer; empty while a person owns the conversation.")
    intent: str
    confidence: float = Field(ge=0, le=1)
    language: Literal["en", "zh"]
    emotion: float = Field(ge=0, le=1, description="Negative emotion of this message, 0..1.")
    handoff: bool = Field(description="A person owns (or now takes) the conversation.")
    slots: dict[str, str] = Field(description="The form's filled slots (the contact as `verified`).")
    agent_replies: list[str] = Field(max_length=60, description="An agent's replies not yet shown to the customer.")


class ConversationPath(BaseModel):
    conversation_id: str = Field(pattern=ID)


class ConversationErased(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str
    erased: bool


class TicketPath(BaseModel):
    ticket_id: str = Field(pattern=ID)


class FaqPath(BaseModel):
    faq_id: str = Field(pattern=FAQ_ID)


class TicketsQuery(PageQuery):
    status: Literal["open", "closed"] = "open"


class TicketMessage(BaseModel):
    """A hand-off ticket as the bot puts it on the agents' queue."""

    model_config = ConfigDict(extra="forbid")

    ticket_id: str
    conversation_id: str
    user_id: str
    reason: Literal["emotion", "request", "fallbacks"]
    intent: str
    slots: dict[str, str]
    emotion: float = Field(ge=0, le=1)
    language: Literal["en", "zh"]
    created_at: str
    transcript: list[dict[str, object]] = Field(max_length=60)


class TicketView(TicketMessage):
    status: Literal["open", "closed"]


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    close: bool = Field(default=False, description="Hand the conversation back to the bot and close the ticket.")


class AgentReplied(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: str
    conversation_id: str
    status: Literal["open", "closed"]
    owner: Literal["bot", "agent"]


class FaqFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: Topic
    questions: LocalizedQuestions
    answer: Localized


class FaqQuery(PageQuery):
    pass


ConversationView = ConversationState

ALIAS = r"^[^#\x00-\x1f\x7f]{1,40}$"  # '#' separates an alias from its item in the table's sort key


MAX_RELATED_FROM = 200  # relations to an item shown with it (the bot follows them all)


class GraphItemPath(BaseModel):
    item_id: str = Field(pattern=ITEM_ID)


class RelationPath(BaseModel):
    item_id: str = Field(pattern=ITEM_ID)
    relation: RelationName
    target: str = Field(pattern=ITEM_ID)


class RelationTo(BaseModel):
    """One of an item's outgoing relations: `<item> -relation-> <target>`."""

    model_config = ConfigDict(extra="forbid")

    relation: RelationName
    target: str = Field(pattern=ITEM_ID, description="A catalogue item id.")


class RelationFrom(BaseModel):
    """A relation another item has to this one: `<source> -relation-> <item>` (edited at its source)."""

    model_config = ConfigDict(extra="forbid")

    relation: RelationName
    source: str


class GraphItemFields(BaseModel):
    """An item's outgoing relations (all of them: what is not listed is removed) and, if given, its aliases."""

    model_config = ConfigDict(extra="forbid")

    relations: list[RelationTo] = Field(max_length=50)
    aliases: list[Annotated[str, Field(pattern=ALIAS)]] | None = Field(
        default=None,
        max_length=20,
        description="What customers call the item, in any language (matched case-insensitively); omit to keep.",
    )


class GraphItemView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    title: str
    category: str
    aliases: list[str] = Field(max_length=20)
    relations: list[RelationTo] = Field(max_length=50)
    related_from: list[RelationFrom] = Field(max_length=MAX_RELATED_FROM, description="In the table's order.")
    related_from_truncated: bool = Field(description=f"More than {MAX_RELATED_FROM} items relate to this one.")


class RelationEdited(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    relation: RelationName
    target: str
    changed: bool = Field(description="False when the graph already was so (an edit is safe to repeat).")
    replaced: str | None = Field(default=None, description="The size chart this one replaced, if any.")


class ConnectQuery(BaseModel):
    """The WebSocket $connect's query string: the customer the front end signed in, and its channel. The key
    comes in the `x-api-key` header or, from a browser (which cannot set headers on a WebSocket), `api_key`."""

    model_config = ConfigDict(extra="ignore")

    user_id: str = Field(pattern=ID)
    channel: Channel = "h5"


class ChatFrame(BaseModel):
    """A client's frame on the WebSocket: `{"action": "message", "text": ..., "conversation_id"?}`. The user
    is the connection's (checked at $connect), never the frame's."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["message"]
    text: str
    conversation_id: str | None = None

"""Customer service over HTTP, the agents' side (`support:agent`: operator or admin): a conversation's
transcript and its erasure, the hand-off tickets and an agent's reply, pushed on the customer's WebSocket.
A function of its own (SupportAgentFunction): its role may read, erase and answer conversations and close
tickets, which neither the public routes (`app.py`) nor the admin's content edits (`admin.py`) may.

Glue only: `commerce_ai.support.service` does the work.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.paging import Page
from commerce_ai.support import service
from commerce_ai.support.contract import (
    AgentReplied,
    AgentReply,
    ConversationErased,
    ConversationPath,
    ConversationView,
    TicketPath,
    TicketsQuery,
    TicketView,
)
from commerce_ai.support.store import Conversations

app = json_api("support-agents")


@app.route(
    "/support/conversations/{conversation_id}",
    path_params=ConversationPath,
    methods=["GET"],
    response=ConversationView,
    admin=True,
    errors=(404,),
)
def get_conversation(conversation_id: str) -> ConversationView:
    """A conversation's state and transcript (admin: it is a customer's personal data)."""
    return service.conversation(conversation_id, datetime.now(UTC))


@app.route(
    "/support/conversations/{conversation_id}",
    path_params=ConversationPath,
    methods=["DELETE"],
    response=ConversationErased,
    admin=True,
    errors=(404,),
)
def erase_conversation(conversation_id: str) -> ConversationErased:
    """Erase a conversation's state and transcript now (admin; they also expire a week after the last message)."""
    if not Conversations.from_settings().delete(conversation_id):
        raise NotFound(f"no conversation {conversation_id}")
    return ConversationErased(conversation_id=conversation_id, erased=True)


@app.route("/support/tickets", methods=["GET"], query=TicketsQuery, response=Page[TicketView], admin=True)
def list_tickets(query: TicketsQuery) -> Page[TicketView]:
    """Hand-off tickets in a status (default open), paged in the table's order (admin)."""
    items, cursor = service.tickets_page(query.status, query.limit, query.cursor)
    return Page[TicketView](items=items, next_cursor=cursor)


@app.route(
    "/support/tickets/{ticket_id}/reply",
    path_params=TicketPath,
    methods=["POST"],
    request=AgentReply,
    response=AgentReplied,
    admin=True,
    errors=(404, 409),
)
def reply_to_ticket(ticket_id: str, body: AgentReply) -> AgentReplied:
    """An agent's reply into the conversation; `close` hands it back to the bot (admin)."""
    return service.reply_to_ticket(ticket_id, body, datetime.now(UTC))

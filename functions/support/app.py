"""Customer service over HTTP (API Gateway -> Chalice): the bot's messages, the agents' tickets, the FAQ.

Glue only: `commerce_ai.support.service` does the work. Who may call what:
- `POST /support/messages` is for the shop's chat front ends (app, H5 page, mini program back end), which
  sign their customers in and send the shop's front-end key (the ingest key of `POST /events`) or the
  admin key. A conversation id answers only for the `user_id` that started it: anyone else's (or an
  unknown or expired id) starts a new conversation and says so, so no caller can read another
  customer's transcript. Order details further need the email or phone on the order.
- Transcripts, tickets, FAQ and knowledge-graph edits are for the shop's agents: admin key. The FAQ and
  the graph's relations between products are public.
- The H5 chat page is public: it holds no data; the customer's front end gives it who is signed in and
  the front-end key, which its WebSocket (or, failing that, `POST /support/messages`) needs.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from chalice import Response

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api
from commerce_ai.paging import Page
from commerce_ai.stream.callers import shop_backend
from commerce_ai.support import service
from commerce_ai.support.contract import (
    AgentReplied,
    AgentReply,
    ConversationErased,
    ConversationPath,
    ConversationView,
    FaqFields,
    FaqPath,
    FaqQuery,
    GraphItemFields,
    GraphItemPath,
    GraphItemView,
    MessageIn,
    MessageOut,
    RelationEdited,
    RelationPath,
    TicketPath,
    TicketsQuery,
    TicketView,
)
from commerce_ai.support.faq import FaqEntry
from commerce_ai.support.settings import settings
from commerce_ai.support.store import Conversations, FaqStore

app = json_api("support")
CHAT_PAGE = Path(__file__).with_name("chat") / "index.html"


@cache
def chat_page() -> str:
    """The H5 page with the chat's WebSocket URL in it (none configured: the page talks over HTTP)."""
    url = html.escape(settings().websocket_url or "", quote=True)
    return CHAT_PAGE.read_text(encoding="utf-8").replace("{{websocket_url}}", url)


@app.route(
    "/support/messages",
    methods=["POST"],
    request=MessageIn,
    response=MessageOut,
    caller=shop_backend,
    errors=(409, 503),
)
def post_message(body: MessageIn) -> MessageOut:
    """One customer message: the bot's reply, intent, confidence, language, emotion, hand-off and slots."""
    return service.handle_message(body, datetime.now(UTC))


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


@app.route("/support/faq", methods=["GET"], query=FaqQuery, response=Page[FaqEntry])
def list_faq(query: FaqQuery) -> Page[FaqEntry]:
    """The FAQ's entries (the shop's public policies), paged in the table's order."""
    items, cursor = FaqStore.from_settings().page(query.limit, query.cursor)
    return Page[FaqEntry](items=items, next_cursor=cursor)


@app.route(
    "/support/faq/{faq_id}", path_params=FaqPath, methods=["PUT"], request=FaqFields, response=FaqEntry, admin=True
)
def put_faq(faq_id: str, body: FaqFields) -> FaqEntry:
    """Create or replace an FAQ entry (admin); the bot answers from it within a minute."""
    return service.put_faq(FaqEntry(faq_id=faq_id, **body.model_dump()))


@app.route(
    "/support/faq/{faq_id}", path_params=FaqPath, methods=["DELETE"], response=FaqEntry, admin=True, errors=(404,)
)
def delete_faq(faq_id: str) -> FaqEntry:
    """Remove an FAQ entry (admin); returns what was removed."""
    store = FaqStore.from_settings()
    entry = store.get(faq_id)
    if entry is None or not store.delete(faq_id):
        raise NotFound(f"no FAQ entry {faq_id}")
    return entry


@app.route(
    "/support/graph/items/{item_id}", path_params=GraphItemPath, methods=["GET"], response=GraphItemView, errors=(404,)
)
def get_graph_item(item_id: str) -> GraphItemView:
    """A catalogue item in the product knowledge graph: its aliases, its relations and those to it."""
    return service.graph_item(item_id)


@app.route(
    "/support/graph/items/{item_id}",
    path_params=GraphItemPath,
    methods=["PUT"],
    request=GraphItemFields,
    response=GraphItemView,
    admin=True,
    errors=(404, 409),
)
def put_graph_item(item_id: str, body: GraphItemFields) -> GraphItemView:
    """Replace an item's relations (those not listed are removed) and, if given, its aliases (admin)."""
    return service.put_graph_item(item_id, body)


@app.route(
    "/support/graph/items/{item_id}/relations/{relation}/{target}",
    path_params=RelationPath,
    methods=["PUT"],
    response=RelationEdited,
    admin=True,
    errors=(404,),
)
def put_relation(item_id: str, relation: str, target: str) -> RelationEdited:
    """Add one relation between two catalogue items (admin); a new size chart replaces the old one."""
    path = RelationPath.model_validate({"item_id": item_id, "relation": relation, "target": target})
    return service.put_relation(path.item_id, path.relation, path.target)


@app.route(
    "/support/graph/items/{item_id}/relations/{relation}/{target}",
    path_params=RelationPath,
    methods=["DELETE"],
    response=RelationEdited,
    admin=True,
    errors=(404,),
)
def delete_relation(item_id: str, relation: str, target: str) -> RelationEdited:
    """Remove one relation, from both its ends (admin)."""
    path = RelationPath.model_validate({"item_id": item_id, "relation": relation, "target": target})
    return service.delete_relation(path.item_id, path.relation, path.target)


@app.route("/support/chat", methods=["GET"], produces="text/html")
def get_chat_page() -> Response:
    """The H5 chat page: talks to the bot over the WebSocket API (over HTTP where a WebSocket cannot open)."""
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}
    return Response(body=chat_page(), status_code=200, headers=headers)

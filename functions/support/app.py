"""Customer service over HTTP (API Gateway -> Chalice), its public side: the bot's messages, the FAQ, the
product graph's facts and the H5 chat page.

Glue only: `commerce_ai.support.service` does the work. Who may call what:
- `POST /support/messages` is for the shop's chat front ends (app, H5 page, mini program back end), which
  sign their customers in and send the shop's front-end key (the ingest key of `POST /events`) or the
  admin key. A conversation id answers only for the `user_id` that started it: anyone else's (or an
  unknown or expired id) starts a new conversation and says so, so no caller can read another
  customer's transcript. Order details further need the email or phone on the order.
- The FAQ and the graph's relations between products are public.
- The H5 chat page is public: it holds no data; the customer's front end gives it who is signed in and
  the front-end key, which its WebSocket (or, failing that, `POST /support/messages`) needs.

The agents' routes (transcripts, tickets, replies) are `agents.py`'s and the admin's FAQ and knowledge-graph
edits `admin.py`'s: functions of their own, each with the role its routes need (README, "Public and admin
routes"), so this one may neither erase a conversation, close a ticket nor edit the FAQ or the graph.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from chalice import Response

from commerce_ai.http import json_api
from commerce_ai.paging import Page
from commerce_ai.stream.callers import shop_backend
from commerce_ai.support import service
from commerce_ai.support.contract import FaqQuery, GraphItemPath, GraphItemView, MessageIn, MessageOut
from commerce_ai.support.faq import FaqEntry
from commerce_ai.support.settings import settings
from commerce_ai.support.store import FaqStore

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


@app.route("/support/faq", methods=["GET"], query=FaqQuery, response=Page[FaqEntry])
def list_faq(query: FaqQuery) -> Page[FaqEntry]:
    """The FAQ's entries (the shop's public policies), paged in the table's order."""
    items, cursor = FaqStore.from_settings().page(query.limit, query.cursor)
    return Page[FaqEntry](items=items, next_cursor=cursor)


@app.route(
    "/support/graph/items/{item_id}", path_params=GraphItemPath, methods=["GET"], response=GraphItemView, errors=(404,)
)
def get_graph_item(item_id: str) -> GraphItemView:
    """A catalogue item in the product knowledge graph: its aliases, its relations and those to it."""
    return service.graph_item(item_id)


@app.route("/support/chat", methods=["GET"], produces="text/html")
def get_chat_page() -> Response:
    """The H5 chat page: talks to the bot over the WebSocket API (over HTTP where a WebSocket cannot open)."""
    headers: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}
    return Response(body=chat_page(), status_code=200, headers=headers)

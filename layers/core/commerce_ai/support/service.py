"""What the support handlers call: one message through the bot with its state read and written, the
agents' side of a hand-off, and the admin edits of the FAQ and the product knowledge graph."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from commerce_ai.artifacts.loader import ModelLoader
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.support import encoder
from commerce_ai.support.contract import (
    MAX_RELATED_FROM,
    AgentReplied,
    AgentReply,
    GraphItemFields,
    GraphItemView,
    MessageIn,
    MessageOut,
    RelationEdited,
    RelationFrom,
    RelationTo,
    TicketView,
)
from commerce_ai.support.conversation import IDLE_TTL_SECONDS, ConversationState, Message
from commerce_ai.support.dialogue import Bot
from commerce_ai.support.faq import FaqEntry, FaqIndex
from commerce_ai.support.graph import Edge, RelationName
from commerce_ai.support.graph_edits import (
    MAX_RELATIONS,
    EdgeChanges,
    changes,
    check_aliases,
    check_relations,
    normalise_aliases,
    outgoing,
    with_relation,
)
from commerce_ai.support.intents import MODEL_NAME, IntentModel, open_intents
from commerce_ai.support.store import (
    ConnectionPusher,
    Conversations,
    DynamoGraph,
    DynamoOrders,
    FaqStore,
    HandoffQueue,
    Tickets,
)

FAQ_REFRESH_SECONDS = 60.0
UNKNOWN_CONVERSATION = "unknown or expired conversation id: a new conversation was started"


@cache
def intent_loader() -> ModelLoader[IntentModel]:
    return ModelLoader(MODEL_NAME, expected_features=[encoder.encoder_name()], opener=open_intents)


@cache
def encoder_loader() -> ModelLoader[encoder.SentenceEncoder]:
    """The served variant only: a `support-encoder` version of another variant is refused, like a head
    trained on another encoder."""
    return ModelLoader(encoder.MODEL_NAME, expected_features=[encoder.encoder_name()], opener=encoder.open_encoder)


class _FaqCache:
    """The FAQ index, rebuilt when the table's entries change (checked at most once a minute)."""

    def __init__(self) -> None:
        self.index: FaqIndex | None = None
        self.digest = ""
        self.checked = float("-inf")

    def get(self) -> FaqIndex:
        if self.index is None or time.monotonic() - self.checked > FAQ_REFRESH_SECONDS:
            entries = FaqStore.from_settings().all()
            digest = hashlib.sha256("".join(e.model_dump_json() for e in entries).encode()).hexdigest()
            if self.index is None or digest != self.digest:
                self.index, self.digest = FaqIndex(entries), digest
            self.checked = time.monotonic()
        return self.index


faq_cache = _FaqCache()


def bot() -> Bot:
    encoder.use(encoder_loader().get().model)  # before the FAQ index, which embeds its questions with it
    return Bot(
        intent_loader().get().model,
        faq_cache.get(),
        DynamoOrders.from_settings(),
        lambda text: encoder.embed([text])[0],
        DynamoGraph.from_settings(),
    )


def new_state(body: MessageIn, now: datetime) -> ConversationState:
    return ConversationState(
        conversation_id=f"c-{uuid.uuid4().hex}",
        user_id=body.user_id,
        channel=body.channel,
        created_at=now,
        updated_at=now,
        expires_at=int(now.timestamp()) + IDLE_TTL_SECONDS,
    )


def visible_slots(state: ConversationState) -> dict[str, str]:
    return {k: ("verified" if k == "contact" else v) for k, v in state.slots.items()}


def handle_message(body: MessageIn, now: datetime, connection_id: str | None = None) -> MessageOut:
    """A conversation id is honoured only for the user it was started by: another user's id, an unknown
    or an expired one starts a new conversation (and says so), so no caller reads someone else's state.
    A message on a WebSocket connection (`connection_id`) makes it where an agent's replies are pushed."""
    conversations = Conversations.from_settings()
    found = conversations.get(body.conversation_id, int(now.timestamp())) if body.conversation_id else None
    if found is not None and found[0].user_id == body.user_id:
        state, revision, notice = found[0], found[1], None
    else:
        state, revision = new_state(body, now), None
        notice = UNKNOWN_CONVERSATION if body.conversation_id else None
    pending = [m for m in state.transcript if m.role == "agent" and not m.delivered]
    for message in pending:
        message.delivered = True
    if connection_id is not None:
        state.connection_id = connection_id
    turn = bot().respond(state, body.text, now)
    if turn.ticket is not None:
        HandoffQueue.from_settings().send(turn.ticket)
    state.updated_at = now
    state.expires_at = int(now.timestamp()) + IDLE_TTL_SECONDS
    conversations.put(state, revision)
    return MessageOut(
        conversation_id=state.conversation_id,
        new_conversation=revision is None,
        notice=notice,
        reply=turn.reply,
        intent=turn.intent,
        confidence=round(turn.confidence, 4),
        language=state.language,
        emotion=turn.emotion,
        handoff=turn.handoff,
        slots=visible_slots(state),
        agent_replies=[m.text for m in pending],
    )


def conversation(conversation_id: str, now: datetime) -> ConversationState:
    found = Conversations.from_settings().get(conversation_id, int(now.timestamp()))
    if found is None:
        raise NotFound(f"no conversation {conversation_id} (or it expired)")
    return found[0]


def ticket_view(document: dict[str, Any], status: str) -> TicketView:
    return TicketView.model_validate({**document, "status": status})


def tickets_page(status: str, limit: int, cursor: str | None) -> tuple[list[TicketView], str | None]:
    found, next_cursor = Tickets.from_settings().page(status, limit, cursor)
    return [ticket_view(doc, s) for doc, s in found], next_cursor


def reply_to_ticket(ticket_id: str, body: AgentReply, now: datetime) -> AgentReplied:
    """An agent's reply goes into the conversation: pushed at once to the customer's WebSocket connection
    if one is open, else delivered with their next exchange on the HTTP channel; `close` hands the
    conversation back to the bot. The push comes before the write, so the transcript records whether
    it reached the customer (a write that then conflicts is a 409 and the agent sends again)."""
    tickets = Tickets.from_settings()
    found = tickets.get(ticket_id)
    if found is None:
        raise NotFound(f"no ticket {ticket_id}")
    document, status = found
    if status == "closed":
        raise InvalidInput(f"ticket {ticket_id} is closed")
    conversations = Conversations.from_settings()
    stored = conversations.get(document["conversation_id"], int(now.timestamp()))
    if stored is None:
        raise NotFound(f"the conversation of ticket {ticket_id} has expired")
    state, revision = stored
    pushed = False
    if state.connection_id is not None:
        frame = {"type": "agent_reply", "conversation_id": state.conversation_id, "text": body.text}
        pushed = ConnectionPusher().post(state.connection_id, frame)
        if not pushed:
            state.connection_id = None  # closed or expired: the next exchange carries the reply
    state.add(Message(role="agent", text=body.text, at=now, delivered=pushed))
    if body.close:
        state.owner, state.ticket_id = "bot", None
    state.updated_at = now
    state.expires_at = int(now.timestamp()) + IDLE_TTL_SECONDS
    conversations.put(state, revision)
    if body.close:
        tickets.close(ticket_id)
    return AgentReplied(
        ticket_id=ticket_id,
        conversation_id=state.conversation_id,
        status="closed" if body.close else "open",
        owner=state.owner,
    )


def put_faq(entry: FaqEntry) -> FaqEntry:
    FaqStore.from_settings().put(entry)
    # A bot in this process (the local runner, tests) answers from the new entry at once; on AWS the edit runs
    # in SupportAdminFunction and SupportApiFunction's containers see it within FAQ_REFRESH_SECONDS.
    faq_cache.checked = float("-inf")
    return entry


def graph_item(item_id: str) -> GraphItemView:
    """An item's place in the knowledge graph: its aliases, its relations and the relations to it."""
    graph = DynamoGraph.from_settings()
    item = graph.catalog.get(item_id)
    if item is None:
        raise NotFound(f"no catalogue item {item_id}")
    edges = graph.edges(item_id)
    incoming = [e for e in edges if e.relation.startswith("~")]
    return GraphItemView(
        item_id=item_id,
        title=item.title,
        category=item.category,
        aliases=graph.aliases_of(item_id),
        relations=[RelationTo.model_validate({"relation": e.relation, "target": e.target}) for e in outgoing(edges)],
        related_from=[
            RelationFrom.model_validate({"relation": e.relation[1:], "source": e.target})
            for e in incoming[:MAX_RELATED_FROM]
        ],
        related_from_truncated=len(incoming) > MAX_RELATED_FROM,
    )


def _categories(graph: DynamoGraph, item_ids: list[str]) -> dict[str, str]:
    return {item_id: item.category for item_id, item in graph.catalog.get_many(item_ids).items()}


def _apply(graph: DynamoGraph, plan: EdgeChanges) -> None:
    for edge in plan.remove:
        graph.remove_edge(edge)
    for edge in plan.add:
        graph.put_edge(edge)


def put_graph_item(item_id: str, body: GraphItemFields) -> GraphItemView:
    """Replace an item's outgoing relations (and its aliases, if given) after checking every rule; the bot
    answers from the new graph at its next message. Returns the item as read back from the table."""
    graph = DynamoGraph.from_settings()
    wanted = [Edge(item_id, r.relation, r.target) for r in body.relations]
    categories = _categories(graph, [item_id, *(e.target for e in wanted)])
    if item_id not in categories:
        raise NotFound(f"no catalogue item {item_id}")
    check_relations(item_id, wanted, categories)
    aliases = None if body.aliases is None else normalise_aliases(body.aliases)
    if aliases is not None:
        check_aliases(item_id, aliases, graph.aliases())
    _apply(graph, changes(graph.edges(item_id), wanted))
    if aliases is not None:
        old = graph.aliases_of(item_id)
        for alias in old:
            if alias not in aliases:
                graph.remove_alias(alias, item_id)
        for alias in aliases:
            if alias not in old:
                graph.put_alias(alias, item_id)
    return graph_item(item_id)


def put_relation(item_id: str, relation: RelationName, target: str) -> RelationEdited:
    """Add one relation (safe to repeat); a new `size_chart` replaces the item's old one."""
    graph = DynamoGraph.from_settings()
    edge = Edge(item_id, relation, target)
    categories = _categories(graph, [item_id, target])
    if item_id not in categories:
        raise NotFound(f"no catalogue item {item_id}")
    check_relations(item_id, [edge], categories)
    current = graph.edges(item_id)
    wanted = with_relation(current, edge)
    if len(wanted) > MAX_RELATIONS:
        raise InvalidInput(f"{item_id} has {MAX_RELATIONS} relations already, the most an item may have")
    plan = changes(current, wanted)
    _apply(graph, plan)
    replaced = next((e.target for e in plan.remove), None)
    return RelationEdited(item_id=item_id, relation=relation, target=target, changed=bool(plan.add), replaced=replaced)


def delete_relation(item_id: str, relation: RelationName, target: str) -> RelationEdited:
    """Remove one relation from both its ends; 404 when the item has no such relation."""
    if not DynamoGraph.from_settings().remove_edge(Edge(item_id, relation, target)):
        raise NotFound(f"{item_id} has no {relation} relation to {target}")
    return RelationEdited(item_id=item_id, relation=relation, target=target, changed=True)

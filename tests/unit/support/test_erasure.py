"""Customer service's part of the shop-wide erasure: a user's conversations and tickets are found through
the `by_user` index on the erasure's hash of the user id, and only theirs are deleted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commerce_ai.erasure import user_hash
from commerce_ai.support import erasure
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.store import BY_USER_INDEX, Conversations, Tickets
from tests.unit.fakes import FakeDynamoDB

CONVERSATIONS, TICKETS = "conversations", "tickets"
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def ddb() -> FakeDynamoDB:
    return FakeDynamoDB(
        key_schemas={CONVERSATIONS: ("conversation_id",), TICKETS: ("ticket_id",)},
        index_schemas={(CONVERSATIONS, BY_USER_INDEX): ("user_hash",), (TICKETS, BY_USER_INDEX): ("user_hash",)},
    )


def state(conversation_id: str, user_id: str) -> ConversationState:
    return ConversationState(
        conversation_id=conversation_id, user_id=user_id, channel="web", created_at=NOW, updated_at=NOW, expires_at=1
    )


def ticket(ticket_id: str, user_id: str) -> dict[str, object]:
    return {"ticket_id": ticket_id, "conversation_id": "c-1", "user_id": user_id}


def test_a_users_conversations_and_tickets_are_erased_and_no_one_elses(
    ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversations, tickets = Conversations(CONVERSATIONS, dynamodb=ddb), Tickets(TICKETS, dynamodb=ddb)
    conversations.put(state("c-1", "u-alice"), None)
    conversations.put(state("c-2", "u-alice"), None)
    conversations.put(state("c-3", "u-bob"), None)
    tickets.open(ticket("t-1", "u-alice"), NOW)
    tickets.open(ticket("t-2", "u-bob"), NOW)
    monkeypatch.setattr(Conversations, "from_settings", classmethod(lambda cls: conversations))
    monkeypatch.setattr(Tickets, "from_settings", classmethod(lambda cls: tickets))

    assert erasure.erase_user("u-alice") == 3

    assert sorted(k[0] for k in ddb.tables[CONVERSATIONS]) == ["c-3"]
    assert sorted(k[0] for k in ddb.tables[TICKETS]) == ["t-2"]
    assert erasure.erase_user("u-alice") == 0  # safe to repeat


def test_items_carry_the_hash_not_a_second_copy_of_the_user_id_as_a_key(ddb: FakeDynamoDB) -> None:
    Conversations(CONVERSATIONS, dynamodb=ddb).put(state("c-1", "u-alice"), None)
    (item,) = ddb.tables[CONVERSATIONS].values()
    assert item["user_hash"] == {"S": user_hash("u-alice")}
    queried = [params for operation, params in ddb.log if operation == "Query"]
    assert queried == []  # writing needs no index read


def test_the_erasure_queries_the_index_not_the_table(ddb: FakeDynamoDB) -> None:
    Conversations(CONVERSATIONS, dynamodb=ddb).erase_user("u-alice")
    assert ("Query", {"TableName": CONVERSATIONS, "IndexName": BY_USER_INDEX}) in ddb.log
    assert not any(operation == "Scan" for operation, _ in ddb.log)

"""Customer service's part of the shop-wide erasure (`commerce_ai.erasure`, `DELETE /users/{user_id}`): the
user's conversations (state and transcript), their open WebSocket connections and their hand-off tickets
(each holds a copy of the transcript). All are found through the tables' `by_user` index on the erasure's
hash of the user id, so the erasure reads no other customer's items."""

from __future__ import annotations

from commerce_ai.support.store import Conversations, Tickets


def erase_user(user_id: str) -> int:
    return Conversations.from_settings().erase_user(user_id) + Tickets.from_settings().erase_user(user_id)

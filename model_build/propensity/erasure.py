"""Users erased through `DELETE /users/{user_id}`, whom training from the event archive skips."""

from __future__ import annotations


def erased_users() -> frozenset[str]:
    return frozenset()

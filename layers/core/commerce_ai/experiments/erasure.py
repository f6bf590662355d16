"""Experiments' part of the shop-wide erasure (`commerce_ai.erasure`, `DELETE /users/{user_id}`): the user's
state in each experiment (the arm they were first shown, when they clicked or bought), stored under a hash
of experiment and user (`ExperimentStore.erase_user`). The per-arm counts are aggregates and stay."""

from __future__ import annotations

from commerce_ai.experiments.service import store


def erase_user(user_id: str) -> int:
    return store().erase_user(user_id)

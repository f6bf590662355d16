"""Recommendations' part of the shop-wide erasure (`commerce_ai.erasure`): the user's session state.

A MovieLens user's long-term history lives in the model artifact; a shop's retrain from the archive
leaves an erased user's events out (`model_build.behaviour_events` skips erased users)."""

from __future__ import annotations

from commerce_ai.recommendations.store import sessions


def erase_user(user_id: str) -> int:
    return sessions().erase(user_id)

"""Propensity's part of the shop-wide erasure (`commerce_ai.erasure`): the user's profile, scores and
daily segment memberships (all in the user's partition of `UserProfilesTable`)."""

from __future__ import annotations

from commerce_ai.propensity.store import ProfileStore


def erase_user(user_id: str) -> int:
    return ProfileStore.from_settings().erase_user(user_id)

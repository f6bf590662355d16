"""Who may call routes that act for the shop's users: the shop's own backend or front end, which holds the
ingest key (the key that posts behaviour events; `.commerce-ai/ingest-key` locally), or an admin.

Such routes reveal or change one user's data (their recommendations, purchase propensity, conversations),
so none of them is anonymous; the backend that knows who is signed in calls them for that user."""

from __future__ import annotations

from chalice.app import Request

from commerce_ai.http import admin_key, require_any_key, secure_parameter
from commerce_ai.stream import settings


def ingest_key() -> str:
    return secure_parameter(settings.ingest_key_parameter())


def shop_backend(request: Request) -> None:
    """The shop's backend or front end (ingest key) or an admin (admin key)."""
    require_any_key(request, (ingest_key, admin_key), "ingest API key")

"""The test stack's caller keys (README, "Callers and scopes") and the headers each caller sends.

`tests/conftest.py` stores these keys at bootstrap; integration tests send `headers("checkout")` (or pass
`caller="checkout"` to `tests.integration.local_stack.call`) to act as that caller kind."""

from __future__ import annotations

ADMIN_KEY = "test-admin-key-0123456789"
INGEST_KEY = "test-ingest-key-0123456789"
CALLER_KEYS = {
    "admin": ADMIN_KEY,
    "events": INGEST_KEY,
    "checkout": "test-checkout-key-0123456789",
    "labels": "test-labels-key-0123456789",
    "operator": "test-operator-key-0123456789",
}
# The kinds bootstrap stores besides the admin and ingest keys, which it takes as arguments of their own.
OTHER_CALLER_KEYS = {kind: key for kind, key in CALLER_KEYS.items() if kind not in ("admin", "events")}


def key(kind: str) -> str:
    return CALLER_KEYS[kind]


def headers(kind: str | None, **extra: str) -> dict[str, str]:
    """The headers of a request by `kind` (None: anonymous)."""
    return {**({"x-api-key": CALLER_KEYS[kind]} if kind else {}), **extra}

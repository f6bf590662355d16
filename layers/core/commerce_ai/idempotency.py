"""Idempotency keys that can be neither replayed nor pre-claimed.

A key (a transaction id, an event id) is claimed together with a digest of the request that claimed it.
A retry of the same request gets the first answer; a different request under the same key gets a 409
that says so and reveals nothing of the first one. Without the digest, whoever knew or guessed a key could
read another party's answer by sending any request with it, or claim a checkout's id early with a harmless
request so that the real one got the harmless answer.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel

from commerce_ai.errors import Conflict


class KeyReused(Conflict):
    """An idempotency key already claimed by a different request."""


def request_digest(request: BaseModel) -> str:
    """sha256 of the validated request in canonical JSON: equal for a retry of the same request, whatever
    its key order or spacing, and different when any field differs."""
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_request(key_name: str, key: str, claimed_digest: str | None, digest: str) -> None:
    """Raise KeyReused unless the claim was made by this request. A claim stored without a digest (written
    before digests were kept, and gone once its retention ends) is taken as this request's."""
    if claimed_digest and claimed_digest != digest:
        raise KeyReused(
            f"{key_name} {key!r} was already used for a different request: a retry must resend the same "
            f"request, and a new request needs a new {key_name}"
        )

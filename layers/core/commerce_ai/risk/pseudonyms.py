"""Keyed pseudonyms for the ids the risk graph artifact keeps (users, devices, IP addresses).

The weekly `risk-graph` snapshot lives in the versioned artifact bucket, readable by whoever may read
models, for as long as its versions are kept. Raw user ids, device ids and IP addresses there would be
personal data outside every TTL and out of reach of erasure, so the snapshot keys its maps by
`pseudonym(key, kind, id)`: HMAC-SHA256 under a secret key that is not in the bucket (the SSM
SecureString named by `RISK_PSEUDONYM_KEY_PARAMETER`; on the local stack `commerce-ai up` puts it there
from `.commerce-ai/risk-pseudonym-key`). Without the key an id cannot be recovered, not even by hashing
every IPv4 address. Builders (the weekly job, the build at `make run`) and the scorer both go through
`GraphSnapshot`, which calls this one function, so they cannot hash differently. A snapshot records the
`key_id` it was made with, and one made under another key is not served.
"""

from __future__ import annotations

import hashlib
import hmac

KEY_ID_MESSAGE = b"commerce-ai/risk-graph/key-id"


def pseudonym(key: bytes, kind: str, identifier: str) -> str:
    """The id as the graph artifact stores it: 128 bits of HMAC-SHA256 over the kind and the id."""
    return hmac.new(key, f"{kind}\0{identifier}".encode(), hashlib.sha256).hexdigest()[:32]


def key_id(key: bytes) -> str:
    """Names a key without revealing it, so a snapshot can say which key made its pseudonyms."""
    return hmac.new(key, KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


def serving_key() -> bytes:
    """The key from SSM Parameter Store (cached for a minute per container, as API keys are)."""
    from commerce_ai.http import secure_parameter
    from commerce_ai.risk.settings import settings

    return secure_parameter(settings().need("risk_pseudonym_key_parameter")).encode()

"""The one place boto3 clients are made.

The endpoint is never written here. boto3 itself honours `AWS_ENDPOINT_URL` (and the per-service
`AWS_ENDPOINT_URL_<SERVICE>`), so the same code talks to the local emulator, a real LocalStack or AWS
depending only on the environment the function runs in.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 3, "mode": "standard"},
)
_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """A cached client for `service`; boto3 clients are thread-safe, sessions are not."""
    with _lock:
        found = _clients.get(service)
        if found is None:
            found = boto3.session.Session().client(service, config=_CLIENT_CONFIG)
            _clients[service] = found
        return found


def reset_clients() -> None:
    """Forget cached clients, e.g. after a test changes the endpoint or credentials."""
    with _lock:
        _clients.clear()

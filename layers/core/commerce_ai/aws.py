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
from botocore.exceptions import ClientError

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


class ClientAttribute:
    """`ddb = ClientAttribute("dynamodb")` on an adapter class: the shared client, unless the instance
    was given its own (tests inject fakes as `_ddb`)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.injected = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.injected = f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        given = getattr(instance, self.injected, None)
        return given if given is not None else client(self.service)


def is_conditional_check_failure(error: Exception) -> bool:
    """A DynamoDB write refused by its condition: an expected outcome, not an outage."""
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )

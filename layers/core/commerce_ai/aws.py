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

# Every thread pool that shares a client stays within this many threads (the repricing tick's writers
# are the widest), so no request waits for a connection or drops one; boto3's default pool is 10.
MAX_POOL_CONNECTIONS = 32
# Interactive calls (an API request, one queue record) fail fast: a stuck call must not eat the function's
# timeout. Bulk calls (the repricing tick's parallel scan and batch writes) are allowed longer: a scan page
# of a big catalog, or a batch under load, may legitimately take longer than 10 s, on an emulator
# especially, and a read timeout there only retries the same page and adds load.
INTERACTIVE_READ_TIMEOUT = 10
BULK_READ_TIMEOUT = 120
_CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=INTERACTIVE_READ_TIMEOUT,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=MAX_POOL_CONNECTIONS,
)
_BULK_CONFIG = _CLIENT_CONFIG.merge(Config(read_timeout=BULK_READ_TIMEOUT))
_lock = threading.Lock()
_clients: dict[tuple[str, bool], Any] = {}


def client(service: str, bulk: bool = False) -> Any:
    """A cached client for `service`; boto3 clients are thread-safe, sessions are not. `bulk` gives the
    client for long-running batch work (longer read timeout), kept apart from the interactive one."""
    with _lock:
        found = _clients.get((service, bulk))
        if found is None:
            found = boto3.session.Session().client(service, config=_BULK_CONFIG if bulk else _CLIENT_CONFIG)
            _clients[(service, bulk)] = found
        return found


def reset_clients() -> None:
    """Forget cached clients, e.g. after a test changes the endpoint or credentials."""
    with _lock:
        _clients.clear()


class ClientAttribute:
    """`ddb = ClientAttribute("dynamodb")` on an adapter class: the shared client, unless the instance
    was given its own (tests inject fakes as `_ddb`). `bulk=True` gives the bulk client; `injected` names
    the attribute an injected client is read from when it is not `_<name>` (a bulk attribute usually
    shares `_ddb` with the interactive one)."""

    def __init__(self, service: str, bulk: bool = False, injected: str | None = None) -> None:
        self.service = service
        self.bulk = bulk
        self.injected = injected or ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.injected = self.injected or f"_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        given = getattr(instance, self.injected, None)
        return given if given is not None else client(self.service, bulk=self.bulk)


def is_conditional_check_failure(error: Exception) -> bool:
    """A DynamoDB write refused by its condition: an expected outcome, not an outage."""
    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def cancellation_codes(error: Exception) -> list[str] | None:
    """The per-action reasons of a cancelled DynamoDB transaction (`ConditionalCheckFailed`,
    `TransactionConflict`, `None` for an action that was fine...), or None for any other error."""
    if not isinstance(error, ClientError):
        return None
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return [reason.get("Code", "None") for reason in error.response.get("CancellationReasons") or []]


def put_if(dynamodb: Any, **request: Any) -> bool:
    """PutItem with a ConditionExpression: True if written, False if the condition refused it."""
    try:
        dynamodb.put_item(**request)
        return True
    except ClientError as exc:
        if not is_conditional_check_failure(exc):
            raise
        return False

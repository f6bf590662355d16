"""BatchGetItem and BatchWriteItem until DynamoDB has processed every key or item.

Under load DynamoDB answers a batch call with part of it left over (`UnprocessedKeys`,
`UnprocessedItems`) instead of an error, and the SDK does not resend it: a caller that ignores the
leftovers silently loses reads or writes. These helpers resend them with exponential backoff and raise
`UnprocessedError` when some are still left after the last attempt.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

Request = dict[str, Any]  # the RequestItems of a batch call: table name -> keys or write requests


class UnprocessedError(RuntimeError):
    """DynamoDB kept part of a batch unprocessed through every attempt (throttled); try again later."""


def _backoff(attempt: int, first_delay: float, max_delay: float) -> None:
    time.sleep(min(first_delay * 2**attempt, max_delay))


def batch_get(
    dynamodb: Any, request: Request, *, attempts: int = 10, first_delay: float = 0.05, max_delay: float = 2.0
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """Each response's `Responses` (table name -> items) until every key of `request` has been read."""
    for attempt in range(attempts):
        response = dynamodb.batch_get_item(RequestItems=request)
        yield response.get("Responses", {})
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return
        _backoff(attempt, first_delay, max_delay)
    left = sum(len(entry.get("Keys", [])) for entry in request.values())
    raise UnprocessedError(f"{left} keys stayed unprocessed after {attempts} BatchGetItem attempts")


def batch_write(
    dynamodb: Any, request: Request, *, attempts: int = 8, first_delay: float = 0.05, max_delay: float = 2.0
) -> None:
    """Write every put or delete request of `request`, resending what DynamoDB left unprocessed."""
    for attempt in range(attempts):
        response = dynamodb.batch_write_item(RequestItems=request)
        request = response.get("UnprocessedItems") or {}
        if not request:
            return
        _backoff(attempt, first_delay, max_delay)
    left = sum(len(entries) for entries in request.values())
    raise UnprocessedError(f"{left} items stayed unprocessed after {attempts} BatchWriteItem attempts")

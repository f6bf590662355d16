"""Paging, the same on every list route: `?limit=&cursor=` in, `{"items": [...], "next_cursor"}` out.

A cursor is opaque to clients: pass `next_cursor` back as `cursor` for the next page; it is `null` at the
end. Behind it is a DynamoDB key (`LastEvaluatedKey`-shaped) or, for lists kept in memory, the last
name shown; `decode_cursor` refuses anything this API did not hand out with a 400.

Every cursor a route hands out is bound to that route and its path parameters (`bind_cursor`, applied by
`commerce_ai.http` to every `next_cursor` it renders and every `cursor` it takes): a cursor from one list,
or from another SKU's history, is a 400 on any other, instead of a position read in the wrong table or
partition.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    model_config = ConfigDict(extra="forbid")

    items: list[T]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next page; null at the end.")


class PageQuery(BaseModel):
    """`limit` and `cursor`; a route with other bounds subclasses it and narrows `limit`."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=200, description="Items per page.")
    cursor: str | None = Field(default=None, min_length=1, max_length=4096, description="A `next_cursor`.")


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """The cursor for a position (a DynamoDB key of string attributes), None for the end of the list."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(cursor: str | None, attributes: set[str]) -> dict[str, Any] | None:
    """The position behind a cursor this API returned; `attributes` are its string attributes."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (
            isinstance(key, dict)
            and set(key) == attributes
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        ):
            raise ValueError("not a key of this table")
        return key
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput("cursor is not one this API returned") from exc


def page_of_names(names: list[str], limit: int, cursor: str | None) -> tuple[list[str], str | None]:
    """A page of a sorted list of names held in memory, after the name the cursor points past."""
    after = decode_cursor(cursor, {"after"})
    start = 0
    if after is not None:
        start = next((i for i, name in enumerate(names) if name > after["after"]["S"]), len(names))
    page = names[start : start + limit]
    more = start + limit < len(names)
    return page, encode_cursor({"after": {"S": page[-1]}}) if more and page else None


def bind_cursor(route: str, cursor: str) -> str:
    """A route's own cursor: the position `cursor` wrapped with the route it belongs to."""
    return base64.urlsafe_b64encode(json.dumps({"route": route, "at": cursor}).encode()).decode()


def unbind_cursor(route: str, cursor: str) -> str:
    """The position inside a cursor `bind_cursor` made for this route; a 400 for any other cursor."""
    try:
        bound = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not (isinstance(bound, dict) and set(bound) == {"route", "at"} and isinstance(bound["at"], str)):
            raise ValueError("not a bound cursor")
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput("cursor is not one this API returned") from exc
    if bound["route"] != route:
        raise InvalidInput("cursor belongs to another list: pass back the next_cursor this list returned")
    return bound["at"]

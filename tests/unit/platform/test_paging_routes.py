"""Cursors are bound to the route (and path parameters) that handed them out: a cursor from one list is a
400 on another, instead of a position read in another table or partition (issue 18, part 4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client
from pydantic import BaseModel, Field

from commerce_ai.http import json_api
from commerce_ai.paging import Page, PageQuery, bind_cursor, encode_cursor, page_of_names

NAMES = [f"n{i}" for i in range(5)]


class ShelfPath(BaseModel):
    shelf: str = Field(pattern=r"^[a-z]+$")


def make_app() -> Any:
    app = json_api("paging-probe")

    @app.route("/shelves/{shelf}/items", methods=["GET"], path_params=ShelfPath, query=PageQuery, response=Page[str])
    def shelf_items(shelf: str, query: PageQuery) -> Page[str]:
        """A shelf's items."""
        items, cursor = page_of_names(NAMES, query.limit, query.cursor)
        return Page[str](items=items, next_cursor=cursor)

    @app.route("/names", methods=["GET"], query=PageQuery, response=Page[str])
    def names(query: PageQuery) -> Page[str]:
        """Every name."""
        items, cursor = page_of_names(NAMES, query.limit, query.cursor)
        return Page[str](items=items, next_cursor=cursor)

    return app


@pytest.fixture
def client() -> Any:
    with Client(make_app()) as test_client:
        yield test_client


def get(client: Any, path: str) -> tuple[int, dict[str, Any]]:
    response = client.http.get(path)
    return response.status_code, json.loads(response.body)


def test_a_cursor_pages_its_own_route_and_is_refused_by_any_other(client: Any) -> None:
    status, first = get(client, "/shelves/a/items?limit=2")
    assert status == 200 and first["items"] == ["n0", "n1"]
    cursor = first["next_cursor"]
    assert get(client, f"/shelves/a/items?limit=2&cursor={cursor}")[1]["items"] == ["n2", "n3"]
    # the same list under another path parameter, and another list, refuse it with a 400 that says so
    for other in (f"/shelves/b/items?cursor={cursor}", f"/names?cursor={cursor}"):
        status, body = get(client, other)
        assert status == 400 and "belongs to another list" in body["Message"], other


def test_a_bare_or_forged_cursor_is_a_400(client: Any) -> None:
    unbound = encode_cursor({"after": {"S": "n1"}})  # a position this API never handed out as it is
    foreign = bind_cursor("GET /elsewhere?", str(unbound))
    for cursor in (unbound, foreign, "not-base64!"):
        status, body = get(client, f"/names?cursor={cursor}")
        assert status == 400 and body["Code"] == "BadRequestError"

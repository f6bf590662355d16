"""The pricing catalog API over the local gateway, on the emulator's DynamoDB."""

from __future__ import annotations

from infra.template import Stack
from tests.conftest import ADMIN_KEY
from tests.integration.local_stack import call, gateway_for
from tests.support.callers import CALLER_KEYS

OPERATOR_KEY = CALLER_KEYS["operator"]


def test_admins_create_and_configure_skus_and_operators_page_through_them(stack: Stack) -> None:
    gateway = gateway_for(stack)
    for i in range(5):
        status, body = call(gateway, "PUT", f"/pricing/skus/api-sku-{i}", {"price": 2.0 + i, "cost": 1.5}, ADMIN_KEY)
        assert (status, body["price"], body["stage"]) == (200, 2.0 + i, "mature")

    status, body = call(gateway, "PUT", "/pricing/skus/api-sku-0", {"floor": 1.8, "ceiling": 2.6}, ADMIN_KEY)
    assert (status, body["price"], body["floor"], body["ceiling"]) == (200, 2.0, 1.8, 2.6)
    assert call(gateway, "GET", "/pricing/skus/api-sku-0", caller="operator")[1]["floor"] == 1.8
    # The public price shows a shopper the price only: no cost, floor, ceiling or inventory.
    status, shown = call(gateway, "GET", "/pricing/prices/api-sku-0")
    assert (status, set(shown), shown["price"]) == (200, {"sku", "price", "updated_at"}, 2.0)
    assert call(gateway, "GET", "/pricing/skus")[0] == 401  # stages and the catalog list: operators

    seen: list[str] = []
    cursor = ""
    while True:
        status, page = call(
            gateway, "GET", f"/pricing/skus?limit=2{'&cursor=' + cursor if cursor else ''}", caller="operator"
        )
        assert status == 200 and len(page["items"]) <= 2
        seen += [s["sku"] for s in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert {f"api-sku-{i}" for i in range(5)} <= set(seen) and len(seen) == len(set(seen))


def test_bad_requests_get_a_json_4xx(stack: Stack) -> None:
    gateway = gateway_for(stack)
    call(gateway, "PUT", "/pricing/skus/api-bad", {"price": 2.0, "cost": 1.0}, ADMIN_KEY)
    cases = [
        ("PUT", "/pricing/skus/api-bad", {"floor": 3.0, "ceiling": 2.0}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/api-bad", {"stage": "clearance"}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/api-bad", {"price": -1}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/api-bad", {"colour": "red"}, ADMIN_KEY, 400),
        ("PUT", "/pricing/skus/api-new", {"cost": 1.0}, ADMIN_KEY, 404),
        ("PUT", "/pricing/skus/api-bad", {"price": 2.5}, None, 401),
        ("GET", "/pricing/prices/never-seen", None, None, 404),
        ("GET", "/pricing/skus?limit=0", None, OPERATOR_KEY, 400),
        ("GET", "/pricing/skus?limit=ten", None, OPERATOR_KEY, 400),
        ("GET", "/pricing/skus?cursor=not-a-cursor", None, OPERATOR_KEY, 400),
    ]
    for method, path, body, key, expected in cases:
        status, answer = call(gateway, method, path, body, key)
        assert status == expected, (method, path, body, answer)
        assert answer["Code"] and answer["Message"]


def test_a_skus_settings_read_back_and_removal_are_for_admins(stack: Stack) -> None:
    gateway = gateway_for(stack)
    call(gateway, "PUT", "/pricing/skus/api-gone", {"price": 2.0, "cost": 1.0, "ceiling": 2.5}, ADMIN_KEY)
    assert call(gateway, "GET", "/pricing/skus/api-gone")[0] == 401
    status, settings = call(gateway, "GET", "/pricing/skus/api-gone", None, OPERATOR_KEY)
    assert (status, settings["price"], settings["ceiling"], settings["floor"]) == (200, 2.0, 2.5, None)
    assert call(gateway, "DELETE", "/pricing/skus/api-gone")[0] == 401
    assert call(gateway, "DELETE", "/pricing/skus/api-gone", None, OPERATOR_KEY)[0] == 403  # operators only read
    removed = call(gateway, "DELETE", "/pricing/skus/api-gone", None, ADMIN_KEY)
    assert removed == (200, {"sku": "api-gone", "removed": True})
    assert call(gateway, "GET", "/pricing/skus/api-gone", None, ADMIN_KEY)[0] == 404
    assert call(gateway, "GET", "/pricing/prices/api-gone")[0] == 404
    assert call(gateway, "DELETE", "/pricing/skus/api-gone", None, ADMIN_KEY)[0] == 404


def test_a_skus_competitor_prices_show_what_the_index_is_made_of(stack: Stack) -> None:
    gateway = gateway_for(stack)
    call(gateway, "PUT", "/pricing/skus/api-rivals", {"price": 2.0, "cost": 1.0}, ADMIN_KEY)
    status, none_yet = call(gateway, "GET", "/pricing/skus/api-rivals/competitors", caller="operator")
    assert (status, none_yet) == (200, {"sku": "api-rivals", "competitor_index": None, "competitors": []})
    assert call(gateway, "GET", "/pricing/skus/never-seen/competitors", caller="operator")[0] == 404

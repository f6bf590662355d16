"""The local gateway over a real socket: a method no route declares is a client's 405, never a 5xx."""

from __future__ import annotations

import http.client as http_client
import json

import pytest

from infra.runner.http_gateway import Gateway, Route, serve


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "BREW"])
def test_another_method_on_a_served_route_is_a_405_naming_the_allowed_methods_not_a_501(method: str) -> None:
    def never_invoked(*_: object) -> dict[str, object]:
        raise AssertionError("a refused method must not reach a function")

    routes = [
        Route.make("GET", "/models/{name}", "RegistryApiFunction"),
        Route.make("POST", "/models/{name}/activate", "X"),
    ]
    server = serve(Gateway(routes, never_invoked), "127.0.0.1", 0)
    try:
        connection = http_client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request(method, "/models/x")
        response = connection.getresponse()
        assert response.status == 405
        assert response.getheader("Allow") == "GET"
        assert json.loads(response.read())["Code"] == "MethodNotAllowedError"
    finally:
        server.shutdown()
        server.server_close()

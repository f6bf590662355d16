"""The local gateway over a real socket: what http.server itself answers, as JSON like the rest."""

from __future__ import annotations

import json
import socket
from typing import Any

from infra.runner.http_gateway import Gateway, Route, serve


def _served_trivial_gateway() -> Any:
    def answer(_function: str, _event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "body": "{}"}

    return serve(Gateway([Route.make("GET", "/ping", "F")], answer), "127.0.0.1", 0)


def test_http_servers_own_refusals_are_json() -> None:
    server = _served_trivial_gateway()
    try:
        with socket.create_connection(server.server_address[:2], timeout=5) as sock:
            sock.sendall(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414")
        assert b"Content-Type: application/json" in head
        assert json.loads(body)["Code"] == "RequestUriTooLongError"
    finally:
        server.shutdown()

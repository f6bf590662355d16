"""The local API gateway's own latency, as a client that keeps its connection alive sees it.

Browsers and every HTTP library's pool keep connections alive. A response written as two small
segments (headers, then body) is held back on such a connection by Nagle's algorithm until the client's
delayed ACK, about 40 ms (FIELD-NOTES "Keep-alive stall"). This section keeps that from coming back
unseen: one kept-alive `http.client` connection calls

- a trivial route through the gateway (routing, the proxy event, a function result that is answered at
  once: no worker process, so only the gateway's own work is measured), and an unmatched path (404);
- the same JSON body from a bare `http.server` that writes each response in one buffered write with
  TCP_NODELAY, in the same run: the floor of a Python HTTP server on this machine.

Calls alternate one by one, so drift on the shared machine hits both sides alike.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from infra.runner.http_gateway import Gateway, Route, serve
from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, percentile, ratio, table
from tests.benchmarks.warm_overhead import _alternate

BODY = json.dumps({"status": "ok"}).encode()


def _bare_server() -> ThreadingHTTPServer:
    class Bare(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bare)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="bare-http", daemon=True).start()
    return server


def _trivial_gateway() -> ThreadingHTTPServer:
    def answer(_function: str, _event: dict[str, Any]) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": BODY.decode()}

    return serve(Gateway([Route.make("GET", "/ping", "Trivial")], answer), "127.0.0.1", 0)


def _caller(port: int, path: str) -> Callable[[], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call() -> None:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.will_close:  # the measurement is of a kept-alive connection; say so if it is not
            raise RuntimeError(f"{path} closed the connection")

    return call


def run(report: Report, calls: int = 2000) -> None:
    heading(f"GATEWAY: the local gateway's own latency on a kept-alive connection ({calls} calls per side)")
    gateway, bare = _trivial_gateway(), _bare_server()
    try:
        bare_call = _caller(bare.server_address[1], "/")
        rows = []
        for what, path in (("trivial route (200)", "/ping"), ("unmatched path (404)", "/nowhere")):
            via_gateway = _caller(gateway.server_address[1], path)
            for _ in range(50):  # warm both connections and the interpreter's caches
                via_gateway()
                bare_call()
            measured, baseline = _alternate(calls, via_gateway, bare_call)
            p50, p99 = percentile(measured, 50), percentile(measured, 99)
            b50, b99 = percentile(baseline, 50), percentile(baseline, 99)
            rows.append(
                [
                    what,
                    fmt_seconds(p50),
                    fmt_seconds(p99),
                    fmt_seconds(b50),
                    fmt_seconds(b99),
                    fmt_ratio(ratio(p50, b50)),
                    fmt_ratio(ratio(p99, b99)),
                ]
            )
            report.add(
                "gateway",
                f"{what} p50, kept alive",
                fmt_seconds(p50),
                f"bare server {fmt_seconds(b50)}",
                ratio(p50, b50),
            )
            if p99 > 0.02:
                report.problem(f"gateway {what}: p99 {fmt_seconds(p99)} on a kept-alive connection (a Nagle stall?)")
        print(table(["call", "p50", "p99", "bare p50", "bare p99", "p50 ratio", "p99 ratio"], rows))
    finally:
        gateway.shutdown()
        bare.shutdown()

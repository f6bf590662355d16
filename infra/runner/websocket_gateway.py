"""An API Gateway WebSocket API stand-in: APIs, stages and routes from the template's `AWS::ApiGatewayV2::*`
resources, served with the `websockets` library.

As on AWS: the handshake runs the `$connect` route's function and is refused with the status it returns
(anything but 200); each frame is routed on the key the API's `RouteSelectionExpression` names
(`$request.body.<key>`; `$default` if no route matches, else AWS's `{"message": "Forbidden"}` frame); the
function gets real proxy events (`requestContext.routeKey`, `eventType`, `connectionId`...) and answers on
the connection through the management API, `POST /{stage}/@connections/{id}` (410 `GoneException` for a
connection that is closed), which this module serves on a port of its own: functions reach it through
`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, whose AWS value the runner rewrites (`local_environment`).
`$disconnect` runs when either side closes. Frames from one connection are handled one at a time.

Locally a connection is served at `ws://<host>:<port>/<stage>`. No access log is written.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from infra.runner.invoker import InvocationError, Invoke
from infra.template import WEBSOCKET_EVENT, Stack, TemplateError

API_GATEWAY_MAX_MESSAGE = 128 * 1024  # API Gateway's WebSocket message limit
_SELECTION = re.compile(r"^\$request\.body\.(\w+)$")


@dataclass(frozen=True)
class WebSocketApi:
    logical_id: str
    api_id: str  # what `!Ref` gives, as in the functions' environment
    stage: str
    selection_key: str  # `action` for `$request.body.action`
    routes: dict[str, str]  # route key -> function logical id


def websocket_apis(stack: Stack) -> list[WebSocketApi]:
    """Every WebSocket API of the template with its stage and routes (the functions' `WebSocket` events)."""
    apis = []
    functions = stack.functions()
    for logical_id, resource in stack.of_type("AWS::ApiGatewayV2::Api").items():
        props = resource.get("Properties") or {}
        if props.get("ProtocolType") != "WEBSOCKET":
            raise TemplateError(f"{logical_id}: only WebSocket APIs of AWS::ApiGatewayV2 are supported locally")
        selection = _SELECTION.match(str(props.get("RouteSelectionExpression", "")))
        if selection is None:
            raise TemplateError(f"{logical_id}: RouteSelectionExpression must be $request.body.<key>")
        stages = [
            str(r["Properties"]["StageName"])
            for r in stack.of_type("AWS::ApiGatewayV2::Stage").values()
            if (r["Properties"].get("ApiId") or {}) == {"Ref": logical_id}
        ]
        if len(stages) != 1:
            raise TemplateError(f"{logical_id}: exactly one AWS::ApiGatewayV2::Stage is supported, found {stages}")
        routes = {
            str(event.properties["RouteKey"]): fn.logical_id
            for fn in functions
            for event in fn.events
            if event.type == WEBSOCKET_EVENT and event.properties["ApiId"] == logical_id
        }
        api_id = str(stack.resolve({"Ref": logical_id}))
        apis.append(WebSocketApi(logical_id, api_id, stages[0], selection.group(1), routes))
    return apis


def _connection_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(9)).decode()  # 12 characters, like API Gateway's ids


def _headers(headers: Headers) -> tuple[dict[str, str], dict[str, list[str]]]:
    multi: dict[str, list[str]] = {}
    for key, value in headers.raw_items():
        multi.setdefault(key, []).append(value)
    return {k: v[-1] for k, v in multi.items()}, multi


class WebSocketGateway:
    """The template's WebSocket APIs on one port (each under `/<stage>`), and their management endpoint."""

    def __init__(self, apis: list[WebSocketApi], invoke: Invoke, region: str, management_host: str = "127.0.0.1"):
        stages = [api.stage for api in apis]
        if len(set(stages)) != len(stages):
            raise TemplateError(f"WebSocket APIs served locally need distinct stage names, got {stages}")
        self.apis = {api.stage: api for api in apis}
        self.invoke = invoke
        self.region = region
        self.connections: dict[str, tuple[WebSocketApi, ServerConnection, float]] = {}
        self._handshakes: dict[ServerConnection, tuple[WebSocketApi, str, float]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        # Bound now, so the functions' environment can name it before their workers start.
        self.management = ThreadingHTTPServer((management_host, 0), _management_handler(self))
        self.management.daemon_threads = True
        self.management_url = f"http://{management_host}:{self.management.server_address[1]}"
        self.url = ""

    # -- the functions' view -------------------------------------------------------------------------

    def local_environment(self, environment: dict[str, str], websocket_url: str) -> dict[str, str]:
        """`environment` with each API's AWS endpoints made local: the management API
        (`https://{api}.execute-api.{region}.amazonaws.com`) and the clients' `wss://` URL."""
        rewritten = {}
        for key, value in environment.items():
            for api in self.apis.values():
                host = f"{api.api_id}.execute-api.{self.region}.amazonaws.com"
                value = value.replace(f"https://{host}", self.management_url).replace(f"wss://{host}", websocket_url)
            rewritten[key] = value
        return rewritten

    # -- serving -------------------------------------------------------------------------------------

    def start(self, host: str, port: int) -> None:
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = await serve(
                self._session, host, port, process_request=self._handshake, max_size=API_GATEWAY_MAX_MESSAGE
            )
            ready.set()
            await self._server.wait_closed()

        self._thread = threading.Thread(target=asyncio.run, args=(main(),), name="websocket-gateway", daemon=True)
        self._thread.start()
        threading.Thread(target=self.management.serve_forever, name="websocket-management", daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError(f"the WebSocket gateway did not start on {host}:{port}")
        self.url = f"ws://{host}:{port}"

    def stop(self) -> None:
        self.management.shutdown()
        self.management.server_close()
        if self._loop is not None and self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _context(
        self, api: WebSocketApi, connection: ServerConnection, connection_id: str, route: str, kind: str, since: float
    ) -> dict[str, Any]:
        now = time.time()
        return {
            "routeKey": route,
            "eventType": kind,
            "connectionId": connection_id,
            "connectedAt": int(since * 1000),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "messageDirection": "IN",
            "stage": api.stage,
            "domainName": f"{api.api_id}.execute-api.{self.region}.amazonaws.com",
            "apiId": api.api_id,
            "identity": {"sourceIp": str(connection.remote_address[0])},
        }

    async def _call(self, function: str, event: dict[str, Any]) -> Any:
        """The function's result; a failed invocation (an error, a timeout) is None, as a 500 would be."""
        try:
            return await asyncio.get_running_loop().run_in_executor(None, self.invoke, function, event)
        except InvocationError:
            return None

    async def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        split = urlsplit(request.path)
        api = self.apis.get(split.path.strip("/"))
        if api is None:
            return connection.respond(404, f"no WebSocket stage at {split.path}: use /{'|'.join(self.apis)}\n")
        connection_id, since = _connection_id(), time.time()
        if "$connect" in api.routes:
            headers, multi = _headers(request.headers)
            query = parse_qs(split.query, keep_blank_values=True)
            context = self._context(api, connection, connection_id, "$connect", "CONNECT", since)
            event = {
                "headers": headers,
                "multiValueHeaders": multi,
                "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
                "multiValueQueryStringParameters": query or None,
                "requestContext": context,
                "isBase64Encoded": False,
            }
            result = await self._call(api.routes["$connect"], event)
            status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 500
            if status != 200:
                body = str(result.get("body") or "") if isinstance(result, dict) else "Internal server error"
                return connection.respond(status, body + "\n")
        self._handshakes[connection] = (api, connection_id, since)
        return None

    async def _session(self, connection: ServerConnection) -> None:
        api, connection_id, since = self._handshakes.pop(connection)
        self.connections[connection_id] = (api, connection, since)
        try:
            async for message in connection:
                await self._message(api, connection, connection_id, since, message)
        except ConnectionClosed:
            pass
        finally:
            del self.connections[connection_id]
            if "$disconnect" in api.routes:
                context = self._context(api, connection, connection_id, "$disconnect", "DISCONNECT", since)
                closed = connection.close_code or 1006  # 1006: closed without a close frame
                context.update(disconnectStatusCode=closed, disconnectReason=connection.close_reason or "")
                host = {"Host": context["domainName"]}
                event = {
                    "headers": host,
                    "multiValueHeaders": {k: [v] for k, v in host.items()},
                    "requestContext": context,
                    "isBase64Encoded": False,
                }
                await self._call(api.routes["$disconnect"], event)

    async def _message(
        self, api: WebSocketApi, connection: ServerConnection, connection_id: str, since: float, message: str | bytes
    ) -> None:
        binary = isinstance(message, bytes)
        try:
            selected = json.loads(message).get(api.selection_key)
        except (ValueError, AttributeError):
            selected = None
        route = selected if isinstance(selected, str) and selected in api.routes else "$default"
        context = self._context(api, connection, connection_id, route, "MESSAGE", since)
        if route not in api.routes:
            await connection.send(
                json.dumps({"message": "Forbidden", "connectionId": connection_id, "requestId": context["requestId"]})
            )
            return
        context["messageId"] = _connection_id()
        body = base64.b64encode(message).decode() if isinstance(message, bytes) else message
        event = {"requestContext": context, "body": body, "isBase64Encoded": binary}
        result = await self._call(api.routes[route], event)
        if result is None:
            await connection.send(
                json.dumps(
                    {
                        "message": "Internal server error",
                        "connectionId": connection_id,
                        "requestId": context["requestId"],
                    }
                )
            )

    # -- the management API --------------------------------------------------------------------------

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send `data` on the connection (a text frame when it is UTF-8); False if it is gone."""
        found = self.connections.get(connection_id)
        if found is None or self._loop is None:
            return False
        try:
            frame: str | bytes = data.decode("utf-8")
        except UnicodeDecodeError:
            frame = data
        try:
            asyncio.run_coroutine_threadsafe(found[1].send(frame), self._loop).result(timeout=10)
        except ConnectionClosed:
            return False
        return True

    def close(self, connection_id: str) -> bool:
        found = self.connections.get(connection_id)
        if found is None or self._loop is None:
            return False
        asyncio.run_coroutine_threadsafe(found[1].close(), self._loop).result(timeout=10)
        return True


def _management_handler(gateway: WebSocketGateway) -> type[BaseHTTPRequestHandler]:
    path_pattern = re.compile(r"^/(?P<stage>[^/]+)/@connections/(?P<id>[^/?]+)$")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
            payload = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if error:
                self.send_header("x-amzn-ErrorType", error)  # what botocore names the exception after
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _connection(self) -> str | None:
            found = path_pattern.match(urlsplit(self.path).path)
            if found is None or found.group("stage") not in gateway.apis:
                self._answer(404, {"message": f"no management route {self.command} {self.path}"}, "NotFoundException")
                return None
            return unquote(found.group("id"))

        def _gone(self, connection_id: str) -> None:
            self._answer(410, {"message": f"connection {connection_id} is gone"}, "GoneException")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length > 0 else b""
            connection_id = self._connection()
            if connection_id is None:
                return
            if len(data) > API_GATEWAY_MAX_MESSAGE:
                self._answer(413, {"message": "message over 128 KB"}, "PayloadTooLargeException")
            elif gateway.post(connection_id, data):
                self._answer(200)
            else:
                self._gone(connection_id)

        def do_GET(self) -> None:
            connection_id = self._connection()
            if connection_id is None:
                return
            found = gateway.connections.get(connection_id)
            if found is None:
                self._gone(connection_id)
                return
            since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(found[2]))
            self._answer(200, {"connectedAt": since, "identity": {"sourceIp": str(found[1].remote_address[0])}})

        def do_DELETE(self) -> None:
            connection_id = self._connection()
            if connection_id is None:
                return
            if gateway.close(connection_id):
                self._answer(204)
            else:
                self._gone(connection_id)

        def log_message(self, format: str, *args: Any) -> None:
            return  # no access log: connection ids and client addresses stay out of logs

    return Handler

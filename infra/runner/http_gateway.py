"""An API Gateway (REST, Lambda proxy) stand-in: routes from the template's `Api` events.

Each request becomes a real proxy event (`resource`, `pathParameters`, `requestContext.resourcePath`
and so on), which is what Chalice and Powertools route on. Responses are the function's proxy result.
Unmatched routes get a JSON 404/405, oversize bodies a 413, and a failed invocation a 502, as API
Gateway answers `{"message": "Internal server error"}`. Before a function runs, the caller check that API
Gateway's authorizer makes on AWS (`CallerCheck`: the rules of template.yaml's CallerAuthorizerFunction,
`commerce_ai.access`) answers 401, 403 or 429 (with `Retry-After`), and an allowed request carries the caller
kind and scopes in `requestContext.authorizer`, as the authorizer's context does.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from commerce_ai.access import AccessRules, KeyRing, TokenBuckets, decide, key_from_headers, ssm_reader
from infra.runner.invoker import InvocationError, Invoke

if TYPE_CHECKING:
    from infra.template import Stack

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # resource path as declared, e.g. /models/{name}
    function: str
    pattern: re.Pattern[str]
    # Per segment: 0 literal, 1 {param}, 2 {greedy+}. API Gateway matches segment by segment, preferring
    # a literal over a parameter over a greedy path, so the smallest rank wins.
    rank: tuple[int, ...]

    @classmethod
    def make(cls, method: str, path: str, function: str) -> Route:
        regex = ""
        rank = []
        for segment in path.strip("/").split("/") if path != "/" else []:
            greedy = re.fullmatch(r"\{(\w+)\+\}", segment)
            param = re.fullmatch(r"\{(\w+)\}", segment)
            if greedy:
                regex += f"/(?P<{greedy.group(1)}>.+)"
                rank.append(2)
            elif param:
                regex += f"/(?P<{param.group(1)}>[^/]+)"
                rank.append(1)
            else:
                regex += "/" + re.escape(segment)
                rank.append(0)
        return cls(method.upper(), path, function, re.compile(f"^{regex or '/'}$"), tuple(rank))


def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


AUTHORIZER = "CallerAuthorizerFunction"
Refusal = tuple[int, dict[str, str], bytes]


@dataclass
class CallerCheck:
    """What API Gateway's authorizer and usage plans do on AWS, from the same template declaration."""

    rules: AccessRules
    keys: KeyRing
    buckets: TokenBuckets

    @classmethod
    def from_stack(cls, stack: Stack, key_max_age: float = 60.0) -> CallerCheck:
        from commerce_ai import aws

        rules = AccessRules.parse(stack.function(AUTHORIZER).environment)
        keys = KeyRing(rules.key_parameters, ssm_reader(aws.client("ssm")), max_age=key_max_age)
        return cls(rules, keys, TokenBuckets(rules.rate_limits))

    def check(self, method: str, resource: str, headers: dict[str, str]) -> Refusal | dict[str, str]:
        """A refusal to answer with, or the authorizer context of an allowed request."""
        decision = decide(self.rules, method, resource, key_from_headers(headers), self.keys.keys())
        if decision.status == 401:
            return _json(401, {"Code": "UnauthorizedError", "Message": decision.problem})
        if decision.status != 200:
            return _json(decision.status, {"Code": "ForbiddenError", "Message": decision.problem})
        wait = self.buckets.take(decision.caller)
        if wait > 0:
            status, head, payload = _json(
                429, {"Code": "TooManyRequestsError", "Message": f"the {decision.caller} caller is over its rate limit"}
            )
            return status, {**head, "Retry-After": str(max(1, math.ceil(wait)))}, payload
        return {"principalId": decision.caller, **decision.context(self.rules)}


class Gateway:
    def __init__(
        self, routes: list[Route], invoke: Invoke, stage: str = "Prod", callers: CallerCheck | None = None
    ) -> None:
        self.routes = sorted(routes, key=lambda r: (r.rank, r.path))
        self.invoke = invoke
        self.stage = stage
        # None only for gateways of probe routes in tests; the runner always checks callers.
        self.callers = callers

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, path parameters, whether the path exists for some other method)."""
        path_known = False
        for route in self.routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method in (method, "ANY"):
                return route, found.groupdict(), True
            path_known = True
        return None, {}, path_known

    def allowed_methods(self, path: str) -> list[str]:
        """The methods some route declares for `path` (what a 405 names in its Allow header)."""
        return sorted({route.method for route in self.routes if route.pattern.match(path)})

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path or "/"
        route, params, path_known = self.match(method, path)
        if route is None:
            if path_known:
                status, headers, payload = _json(
                    405, {"Code": "MethodNotAllowedError", "Message": f"{method} is not allowed on {path}"}
                )
                return status, {**headers, "Allow": ", ".join(self.allowed_methods(path))}, payload
            return _json(404, {"Code": "NotFoundError", "Message": f"no route for {method} {path}"})
        if len(body) > API_GATEWAY_MAX_BODY:
            return _json(413, {"Code": "PayloadTooLargeError", "Message": "request body exceeds 10 MB"})
        authorizer: dict[str, str] | None = None
        if self.callers is not None:
            checked = self.callers.check(method, route.path, headers)
            if isinstance(checked, tuple):
                return checked
            authorizer = checked
        event = self.proxy_event(route, method, path, split.query, headers, body, params, source_ip)
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        try:
            result = self.invoke(route.function, event)
        except InvocationError:
            return _json(502, {"message": "Internal server error"})
        return self.proxy_response(result)

    def proxy_event(
        self,
        route: Route,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        params: dict[str, str],
        source_ip: str,
    ) -> dict[str, Any]:
        multi_query = parse_qs(query, keep_blank_values=True)
        text: str | None
        encoded = False
        if not body:
            text = None
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text, encoded = base64.b64encode(body).decode(), True
        request_id = str(uuid.uuid4())
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers or None,
            "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "protocol": "HTTP/1.1",
                "accountId": "123456789012",
                "apiId": "local",
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            },
            "body": text,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def proxy_response(result: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _json(502, {"message": "Internal server error"})
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        if payload and not any(key.lower() == "content-type" for key in headers):
            # API Gateway's proxy integration defaults to JSON; so do the functions' bodies
            headers["Content-Type"] = "application/json"
        return int(result["statusCode"]), headers, payload


def serve(gateway: Gateway, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one write, and without Nagle's algorithm: with a kept-alive client,
        # a separate small body write waits for the client's delayed ACK (about 40 ms per response).
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own refusals (414 URI too long, 400 bad request line...) as JSON like the rest."""
            status = HTTPStatus(code)
            _, headers, payload = _json(
                code, {"Code": status.name.title().replace("_", "") + "Error", "Message": message or status.description}
            )
            self.send_response(code)
            self.send_header("Connection", "close")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _dispatch(self) -> None:
            raw_length = self.headers.get("Content-Length") or "0"
            length = int(raw_length) if raw_length.isdigit() else -1
            if length < 0:
                status, headers, payload = _json(
                    400, {"Code": "BadRequestError", "Message": f"Content-Length {raw_length!r} is not valid"}
                )
                self.close_connection = True
            elif length > API_GATEWAY_MAX_BODY:
                status, headers, payload = _json(
                    413, {"Code": "PayloadTooLargeError", "Message": "request body exceeds 10 MB"}
                )
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                try:
                    status, headers, payload = gateway.handle(
                        self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                    )
                except Exception:  # a malformed function result or a dying worker: API Gateway's own answer
                    status, headers, payload = _json(502, {"message": "Internal server error"})
            self.send_response(status)
            for key, value in headers.items():
                if key.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, a made-up one) reaches the routes too, so one no route declares
            # is a 405 naming the allowed ones: http.server would answer it with a 501, a server error for
            # a client's choice (found by fuzzing).
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:
            return  # access logs would carry client IPs; the functions log what matters

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http-gateway", daemon=True).start()
    return server

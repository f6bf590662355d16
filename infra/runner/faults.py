"""Faults between a function and AWS, for the reliability campaigns (reports/reliability.md).

When the runner's environment names a plan file in COMMERCE_AI_FAULTS, each function process the local
runner starts hooks every botocore client it creates (`before-send`, the last step before the request goes
on the wire) and, at the plan's rate, answers in place of AWS with one of:

- a throttle (400 ThrottlingException / 503 SlowDown for S3) or a 500: botocore retries both, as on AWS;
- a connection error before the request is sent (nothing reached the service);
- a read timeout after the request was sent and applied (the write happened, the answer was lost) --
  the fault that turns a retried non-idempotent write into an effect applied twice;
- at `crash_rate`, the process killing itself (SIGKILL) before or after a call: a worker dying mid-batch.

The plan is a JSON file re-read at most every half second, so a running stack's faults are switched on
and off without restarting it: {"rate": 0.05, "crash_rate": 0.0, "functions": ["RiskBulkScoring"]},
or {"crash_after_calls": 4} for a test that needs the process to die at a known point. `functions`
(substrings of the function's name) limits the faults to those functions; an absent file or a rate of 0
injects nothing. Campaigns that run at once, each on its own functions, write one plan each under
"plans": {"plans": [{"rate": 0.05, "functions": ["RiskAccountEvents"]}, {"crash_rate": 0.002, ...}]};
a function takes the first plan that names it. The runner's own calls (the pollers: Lambda's side) are
never faulted.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAULTS_ENV = "COMMERCE_AI_FAULTS"
_REREAD_SECONDS = 0.5


@dataclass(frozen=True)
class Plan:
    rate: float = 0.0
    crash_rate: float = 0.0
    functions: tuple[str, ...] = ()
    crash_after_calls: int = 0  # > 0: the process dies right after its n-th AWS call lands (deterministic)

    def applies_to(self, function: str) -> bool:
        return not self.functions or any(part in function for part in self.functions)


class FaultInjector:
    """Decides, per AWS call, whether to let it through or to answer with a fault. Thread-safe."""

    def __init__(self, plan_path: Path, function: str, seed: int | None = None) -> None:
        self.plan_path = plan_path
        self.function = function
        self._random = random.Random(seed if seed is not None else os.getpid())
        self._lock = threading.Lock()
        self._plan = Plan()
        self._read_at = 0.0
        self._mtime = -1.0
        self.counts: dict[str, int] = {}
        self.calls = 0  # AWS calls this process made under a plan that applies to it

    def plan(self) -> Plan:
        """The plan for this process's function (the first in the file that names it; none: no faults)."""
        now = time.monotonic()
        if now - self._read_at < _REREAD_SECONDS:
            return self._plan
        self._read_at = now
        try:
            mtime = self.plan_path.stat().st_mtime
        except OSError:
            self._plan, self._mtime = Plan(), -1.0
            return self._plan
        if mtime != self._mtime:
            try:
                raw = json.loads(self.plan_path.read_text() or "{}")
                entries = raw["plans"] if isinstance(raw.get("plans"), list) else [raw]
                plans = [_parse(entry) for entry in entries]
                self._plan = next((p for p in plans if p.applies_to(self.function)), Plan())
                self._mtime = mtime
            except (OSError, ValueError, TypeError, AttributeError):
                pass  # a plan half-written: keep the last one, read it again next time
        return self._plan

    def choose(self) -> str | None:
        """The fault for this call, or None to let it through."""
        plan = self.plan()
        if not plan.applies_to(self.function):
            return None
        with self._lock:
            self.calls += 1
            if plan.crash_after_calls and self.calls >= plan.crash_after_calls:
                return "crash-after"
            if plan.rate <= 0 and plan.crash_rate <= 0:
                return None
            draw = self._random.random()
            if draw < plan.crash_rate:
                return self._random.choice(("crash-before", "crash-after"))
            if draw < plan.crash_rate + plan.rate:
                return self._random.choice(("throttle", "server-error", "connection-error", "timeout-after-send"))
        return None

    def before_send(self, request: Any, **_: Any) -> Any:
        fault = self.choose()
        if fault is None:
            return None
        self._log(fault, request)
        if fault == "crash-before":
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "crash-after":
            _send(request)
            os.kill(os.getpid(), signal.SIGKILL)
        if fault == "throttle":
            return _error_response(request, throttle=True)
        if fault == "server-error":
            return _error_response(request, throttle=False)
        from botocore.exceptions import EndpointConnectionError, ReadTimeoutError

        if fault == "connection-error":
            raise EndpointConnectionError(endpoint_url=request.url)
        if _replayable(request):  # timeout-after-send: the service applied it, the answer never came
            _send(request)
            raise ReadTimeoutError(endpoint_url=request.url)
        raise EndpointConnectionError(endpoint_url=request.url)  # a streamed body cannot be sent twice here

    def _log(self, fault: str, request: Any) -> None:
        with self._lock:
            self.counts[fault] = self.counts.get(fault, 0) + 1
        # One line per fault in the function's log, so a campaign can count what was injected where.
        target = str(request.headers.get("X-Amz-Target", b"") or "")
        print(f"FAULT {fault} {request.method} {request.url.split('?')[0]} {target}", flush=True)


def _parse(raw: dict[str, Any]) -> Plan:
    return Plan(
        rate=float(raw.get("rate", 0.0)),
        crash_rate=float(raw.get("crash_rate", 0.0)),
        functions=tuple(raw.get("functions") or ()),
        crash_after_calls=int(raw.get("crash_after_calls", 0)),
    )


def _replayable(request: Any) -> bool:
    return request.body is None or isinstance(request.body, (bytes, bytearray, str))


def _send(request: Any) -> None:
    from botocore.httpsession import URLLib3Session

    with contextlib.suppress(Exception):  # the real send failed too: the caller sees the injected fault anyway
        URLLib3Session(timeout=30).send(request)


def _error_response(request: Any, throttle: bool) -> Any:
    from botocore.awsrequest import AWSResponse

    headers = {str(k).lower(): (v.decode() if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
    is_json = "json" in headers.get("content-type", "") or "x-amz-target" in headers
    if is_json:
        code = "ThrottlingException" if throttle else "InternalServerError"
        status = 400 if throttle else 500
        body = json.dumps({"__type": code, "message": "injected fault"}).encode()
        response_headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected"}
    else:  # S3 (rest-xml) and the query protocols answer in XML
        code = "SlowDown" if throttle else "InternalError"
        status = 503 if throttle else 500
        body = f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>".encode()
        response_headers = {"Content-Type": "application/xml", "x-amz-request-id": "injected"}
    return AWSResponse(request.url, status, response_headers, _Raw(body))


class _Raw:
    """The raw-response shape AWSResponse reads its content from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def install(plan_path: str, function: str) -> FaultInjector:
    """Hook every botocore client this process creates from now on (the platform's `aws.client` makes a
    new session per client, so the hook goes on client creation, not on one session)."""
    import botocore.session

    injector = FaultInjector(Path(plan_path), function)
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        created = original(self, *args, **kwargs)
        created.meta.events.register("before-send", injector.before_send)
        return created

    botocore.session.Session.create_client = create_client
    return injector

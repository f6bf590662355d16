"""Load: each real-time route under sustained concurrent load from a local client for a bounded time, and
the emulator's floor for the same calls beside it (bare boto3 reads of the store the route reads, at the
same concurrency, for the same time).

Clients are threads with kept-alive sessions, as real callers are (FIELD-NOTES: HTTP from outside). The
local runner serves each function from one warm process, so concurrency queues there as it would on one
Lambda instance; throughput is per function instance, not what AWS would scale out to.
"""

from __future__ import annotations

import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from tests.benchmarks._report import percentile
from tests.campaigns._up import Up
from tests.campaigns.queues import now_iso


def tiny_png() -> bytes:
    """The README's visual-search example image: a light top on black, 28 px."""
    w = h = 28
    rows = b"".join(
        b"\0" + bytes(200 if 3 <= y < 26 and (8 <= x < 20 or (y < 9 and 3 <= x < 25)) else 0 for x in range(w))
        for y in range(h)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class LoadRoute:
    name: str
    make: Callable[[Up, int], Request]  # (stack, call index) -> the request
    floor_table: str | None  # the table the route reads, for the bare-read floor (None: SNS publish)


def _score(up: Up, i: int) -> Request:
    tag = uuid.uuid4().hex[:12]
    body = {
        "transaction_id": f"load-{tag}",
        "user_id": f"load-u{i % 500}",
        "device_id": f"load-d{i % 700}",
        "ip": f"198.51.100.{i % 250}",
        "merchant_id": "m-1",
        "amount": 10.0 + i % 90,
        "currency": "USD",
        "timestamp": now_iso(),
        "location": {"lat": 31.23, "lon": 121.47},
        "payment_method": "card",
        "card_id": f"load-c{i % 900}",
    }
    return Request("POST", "/risk/score", json=body, headers={"x-api-key": up.key("checkout")})


def _events(up: Up, i: int) -> Request:
    event = {
        "event_id": f"load-{uuid.uuid4().hex[:16]}",
        "user_id": f"load-u{i % 500}",
        "session_id": f"load-s{i % 500}",
        "event_type": "view",
        "timestamp": now_iso(),
        "item_id": "50",
    }
    return Request("POST", "/events", json={"events": [event]}, headers={"x-api-key": up.ingest_key})


PNG = tiny_png()

ROUTES = [
    LoadRoute("POST /risk/score", _score, "RiskStateTable"),
    LoadRoute(
        "POST /pricing/quote",
        lambda up, i: Request(
            "POST",
            "/pricing/quote",
            json={"sku": "oj-2-1", "prices": [2.2, 2.4, 2.6]},
            headers={"x-api-key": up.key("operator")},
        ),
        "PricingTable",
    ),
    LoadRoute(
        "GET /recommendations/{user_id}",
        lambda up, i: Request("GET", f"/recommendations/{196 + i % 50}?n=5", headers={"x-api-key": up.ingest_key}),
        "RecommendationSessionsTable",
    ),
    LoadRoute(
        "GET /users/{user_id}/propensity",
        lambda up, i: Request(
            "GET", f"/users/demo-user-{1 + i % 5}/propensity?horizon=28d", headers={"x-api-key": up.ingest_key}
        ),
        "UserProfilesTable",
    ),
    LoadRoute(
        "GET /forecasts/{sku}",
        lambda up, i: Request("GET", "/forecasts/oj-2-1", headers={"x-api-key": up.key("operator")}),
        "ForecastingTable",
    ),
    LoadRoute(
        "POST /support/messages",
        lambda up, i: Request(
            "POST",
            "/support/messages",
            json={"user_id": f"load-u{i % 200}", "text": "do coupons stack?", "channel": "web"},
            headers={"x-api-key": up.ingest_key},
        ),
        "SupportConversationsTable",
    ),
    LoadRoute(
        "POST /visual/search",
        lambda up, i: Request("POST", "/visual/search?n=5", data=PNG, headers={"Content-Type": "image/png"}),
        "VisualDeltasTable",
    ),
    LoadRoute("POST /events", _events, None),
]


@dataclass
class LoadResult:
    route: str
    calls: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    floor_calls: int
    floor_seconds: float
    floor_latencies: list[float]
    answered: list[float]  # the latencies of the calls answered with a success (2xx, 3xx)

    @property
    def rate_limited(self) -> int:
        """Calls refused with a 429: the caller kind's rate limit (template.yaml) did its job."""
        return self.statuses.get(429, 0)

    @property
    def throughput(self) -> float:
        """Successful answers a second: a call refused by the rate limit is not the route's work."""
        return len(self.answered) / self.seconds if self.seconds else 0.0

    @property
    def floor_throughput(self) -> float:
        return self.floor_calls / self.floor_seconds if self.floor_seconds else 0.0


def _hammer(
    call: Callable[[int], int], concurrency: int, seconds: float
) -> tuple[list[float], dict[int, int], float, list[float]]:
    """Run `call(i)` from `concurrency` threads for `seconds`: every call's latency, the status counts (0: an
    exception), the time taken, and the latencies of the calls answered with a success."""
    latencies: list[float] = []
    answered: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter)
            started = time.perf_counter()
            try:
                status = call(i)
            except Exception:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
                if 0 < status < 400:
                    answered.append(elapsed)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses, time.monotonic() - started, answered


def _floor_call(up: Up, table: str | None) -> Callable[[int], int]:
    if table is None:  # POST /events publishes to the topic: the floor is a bare Publish
        sns = up.client("sns")
        topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if "BehaviourEventsTopic" in t["TopicArn"])

        def publish(i: int) -> int:
            sns.publish(TopicArn=topic, Message='{"load": "floor"}')
            return 200

        return publish
    ddb = up.client("dynamodb")
    name = up.name(table)
    schema = ddb.describe_table(TableName=name)["Table"]
    types = {a["AttributeName"]: a["AttributeType"] for a in schema["AttributeDefinitions"]}

    def read(i: int) -> int:
        key = {
            k["AttributeName"]: {
                types[k["AttributeName"]]: f"floor-{i}" if types[k["AttributeName"]] == "S" else str(i)
            }
            for k in schema["KeySchema"]
        }
        ddb.get_item(TableName=name, Key=key)
        return 200

    return read


def run_route(up: Up, route: LoadRoute, concurrency: int, seconds: float) -> LoadResult:
    local = threading.local()

    def call(i: int) -> int:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        request = route.make(up, i)
        response = session.request(
            request.method,
            up.http + request.path,
            json=request.json,
            data=request.data,
            headers=request.headers,
            timeout=60,
        )
        return response.status_code

    call(0)  # warm: the first call may be a cold start, which the cold-start benchmark measures
    latencies, statuses, elapsed, answered = _hammer(call, concurrency, seconds)
    floor_latencies, _, floor_elapsed, _ = _hammer(_floor_call(up, route.floor_table), concurrency, seconds)
    errors = sum(count for status, count in statuses.items() if status == 0 or (status >= 400 and status != 429))
    return LoadResult(
        route=route.name,
        calls=len(latencies),
        errors=errors,
        seconds=elapsed,
        latencies=latencies,
        statuses=statuses,
        floor_calls=len(floor_latencies),
        floor_seconds=floor_elapsed,
        floor_latencies=floor_latencies,
        answered=answered,
    )


def p(values: list[float], q: float) -> float:
    return percentile(values, q) if values else float("nan")

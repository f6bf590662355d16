"""Hostile input: hand-written attacks against a running stack, each of which must end in a 4xx and change
no state (the state the attack aims at is read from the stores before and after), plus the platform's
schemathesis run (tests/e2e/platform/test_contract.py's command, with more examples).

Attacks are rows of small tables, so a new route or a new caller scope is one more row:
- SCOPES: (caller, method, path, body, expected status) -- who may not call what. Today's callers are
  anonymous, the ingest key and the admin key; the issue's finer scopes add rows here.
- ATTACKS: replays and pre-claims of idempotency keys, identifier tricks, oversize and deep bodies,
  numbers outside DynamoDB's range.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from infra.template import ROOT
from tests.campaigns._up import Up
from tests.campaigns.queues import now_iso


class Target(Protocol):
    """Where attacks go: a running stack over HTTP (`Up`), or the gateway in process (the integration test)."""

    @property
    def admin_key(self) -> str: ...

    @property
    def ingest_key(self) -> str: ...

    def client(self, service: str) -> Any: ...

    def name(self, logical_id: str) -> str: ...

    def request(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> tuple[int, str]: ...


Probe = Callable[[Target], Any]


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    caller: str = "anonymous"  # anonymous | ingest | admin
    body: Any = None  # JSON-able, or bytes sent as they are
    probe: Probe | None = None  # the state the attack aims at; read before and after
    setup: Callable[[Target], None] | None = None  # what a legitimate caller did first
    expect: tuple[int, ...] = ()  # statuses that pass (empty: any 4xx)
    fast: bool = False  # needs no model and no queue: also run by tests/integration/platform/test_hostile_input.py


@dataclass
class Verdict:
    attack: Attack
    status: int
    changed: bool
    detail: str

    @property
    def passed(self) -> bool:
        ok_status = self.status in self.attack.expect if self.attack.expect else 400 <= self.status < 500
        return ok_status and not self.changed


def _headers(up: Target, caller: str) -> dict[str, str]:
    keys = {"anonymous": None, "ingest": up.ingest_key, "admin": up.admin_key}
    key = keys[caller]
    return {"x-api-key": key} if key else {}


def send(up: Target, method: str, path: str, caller: str, body: Any) -> tuple[int, str]:
    headers = _headers(up, caller)
    data: bytes | None = None
    if isinstance(body, bytes):
        data = body
        headers["content-type"] = "application/json"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["content-type"] = "application/json"
    return up.request(method, path, headers, data)


def run_attack(up: Target, attack: Attack, settle: float = 0.2) -> Verdict:
    """Send `attack` (after its setup) and read the state it aims at before and after; `settle` gives a
    queued effect time to start before the second read."""
    if attack.setup is not None:
        attack.setup(up)
    before = attack.probe(up) if attack.probe else None
    status, text = send(up, attack.method, attack.path, attack.caller, attack.body)
    time.sleep(settle)
    after = attack.probe(up) if attack.probe else None
    return Verdict(attack, status, before != after, text[:200])


# -- state probes ------------------------------------------------------------------------------------------


def _item(table: str, key: dict[str, str]) -> Probe:
    def read(up: Target) -> Any:
        found = up.client("dynamodb").get_item(
            TableName=up.name(table), Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
        )
        item = found.get("Item")
        return {k: v for k, v in (item or {}).items() if k not in ("heartbeat",)} or None

    return read


def _table_count(table: str) -> Probe:
    def count(up: Target) -> int:
        return int(up.client("dynamodb").scan(TableName=up.name(table), Select="COUNT")["Count"])

    return count


# -- the attacks ----------------------------------------------------------------------------------------


RUN = uuid.uuid4().hex[:8]
# A valid catalogue item, so an attack on its id or one number is refused for that and nothing else.
CATALOGUE_ITEM = {"title": "Minute Maid 64 oz", "category": "juice", "brand": "Minute Maid", "price": 2.99, "stock": 4}


def transaction(tid: str, amount: float = 12.5, **overrides: Any) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "user_id": f"host-{RUN}-u",
        "device_id": f"host-{RUN}-d",
        "ip": "203.0.113.7",
        "merchant_id": "m-1",
        "amount": amount,
        "currency": "USD",
        "timestamp": now_iso(),
        "location": {"lat": 31.23, "lon": 121.47},
        "payment_method": "card",
        "card_id": f"host-{RUN}-c",
        **overrides,
    }


def _scored(tid: str, amount: float = 12.5) -> Callable[[Target], None]:
    return _posted("/risk/score", transaction(tid, amount))


def _account_event(eid: str, success: bool) -> dict[str, Any]:
    return {
        "event_id": eid,
        "event_type": "login",
        "success": success,
        "user_id": f"host-{RUN}-u",
        "device_id": f"host-{RUN}-d",
        "ip": "203.0.113.7",
        "timestamp": now_iso(),
        "location": {"lat": 31.23, "lon": 121.47},
    }


def _behaviour_event(eid: str, kind: str) -> dict[str, Any]:
    return {
        "event_id": eid,
        "user_id": f"host-{RUN}-u",
        "session_id": f"host-{RUN}-s",
        "event_type": kind,
        "timestamp": now_iso(),
        "item_id": "50",
    }


def _posted(path: str, body: dict[str, Any], caller: str = "admin") -> Callable[[Target], None]:
    def post(up: Target) -> None:
        status, text = send(up, "POST", path, caller, body)
        if status >= 400:
            raise RuntimeError(f"setup {path} answered {status}: {text[:200]}")

    return post


def _labelled(tid: str) -> Callable[[Target], None]:
    def label(up: Target) -> None:
        _scored(tid)(up)
        body = {"transaction_id": tid, "is_fraud": True, "source": "chargeback", "reported_at": now_iso()}
        _posted("/risk/labels", body)(up)

    return label


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def attacks() -> list[Attack]:
    t_replay, t_claim, t_label = f"host-{RUN}-replay", f"host-{RUN}-claim", f"host-{RUN}-label"
    e_replay, t_relabel = f"host-{RUN}-ev", f"host-{RUN}-relabel"
    long_id = "x" * 5000
    rows = [
        # replay and pre-claim: the first answer stands, a different request under the same key is a 409
        Attack(
            "risk score: replay of a scored id with another amount",
            "POST",
            "/risk/score",
            "admin",
            transaction(t_replay, amount=999.0),
            _item("RiskResultsTable", {"transaction_id": t_replay}),
            _scored(t_replay),
            (409,),
        ),
        Attack(
            "risk score: the real payment after a stranger pre-claimed its id with a harmless one",
            "POST",
            "/risk/score",
            "admin",
            transaction(t_claim, amount=4999.0, device_id="real-device"),
            _item("RiskResultsTable", {"transaction_id": t_claim}),
            _scored(t_claim, amount=1.0),
            (409,),
        ),
        Attack(
            "risk account event: the same event id with a different body",
            "POST",
            "/risk/events",
            "admin",
            _account_event(e_replay, success=False),
            _item("RiskResultsTable", {"transaction_id": f"event#{e_replay}"}),
            _posted("/risk/events", _account_event(e_replay, success=True)),
            (409,),
        ),
        Attack(
            "behaviour event: the same event id with a different body",
            "POST",
            "/events",
            "ingest",
            {"events": [_behaviour_event(e_replay, "purchase")]},
            None,
            _posted("/events", {"events": [_behaviour_event(e_replay, "view")]}, "ingest"),
            (409,),
        ),
        Attack(
            "risk label: an older label replayed over the correction that followed it",
            "POST",
            "/risk/labels",
            "admin",
            {
                "transaction_id": t_relabel,
                "is_fraud": False,
                "source": "chargeback",
                "reported_at": "2026-01-01T00:00:00Z",
            },
            _item("RiskResultsTable", {"transaction_id": t_relabel}),
            _labelled(t_relabel),
            (409,),
        ),
        Attack(
            "risk label: a label for a transaction never scored",
            "POST",
            "/risk/labels",
            "admin",
            {"transaction_id": t_label, "is_fraud": True, "source": "chargeback"},
            _item("RiskResultsTable", {"transaction_id": t_label}),
            None,
            (404,),
        ),
        # identifiers a path segment or a key must not carry
        Attack(
            "catalogue id with an encoded slash",
            "PUT",
            "/catalog/items/a%2F..%2Fb",
            "admin",
            CATALOGUE_ITEM,
            _table_count("CatalogTable"),
            fast=True,
        ),
        Attack(
            "catalogue id with unicode",
            "PUT",
            "/catalog/items/%E2%80%AEevil",
            "admin",
            CATALOGUE_ITEM,
            _table_count("CatalogTable"),
            fast=True,
        ),
        Attack(
            "catalogue id 5,000 characters long",
            "PUT",
            f"/catalog/items/{long_id}",
            "admin",
            CATALOGUE_ITEM,
            _table_count("CatalogTable"),
            fast=True,
        ),
        Attack(
            "risk transaction id with path characters", "GET", "/risk/transactions/..%2F..%2Fmodels", "admin", fast=True
        ),
        Attack("risk transaction id 5,000 characters long", "GET", f"/risk/transactions/{long_id}", "admin", fast=True),
        Attack(
            "block-list identifier with unicode",
            "PUT",
            "/risk/blocklist/device/d%E2%80%AE1",
            "admin",
            {"blocked": True},
            _table_count("RiskStateTable"),
            fast=True,
        ),
        Attack("forecast sku with a traversal", "GET", "/forecasts/..%2F..%2Fetc"),
        # oversize and deep bodies
        Attack(
            "risk score: a 7 MB body",
            "POST",
            "/risk/score",
            "admin",
            b'{"pad": "' + b"x" * 7_000_000 + b'"}',
            _table_count("RiskResultsTable"),
        ),
        Attack(
            "risk score: JSON nested 100,000 deep",
            "POST",
            "/risk/score",
            "admin",
            _nested(100_000),
            _table_count("RiskResultsTable"),
        ),
        Attack("events: JSON nested 5,000 deep", "POST", "/events", "ingest", _nested(5_000), fast=True),
        Attack(
            "support message: properties nested 2,000 deep",
            "POST",
            "/support/messages",
            "ingest",
            b'{"user_id": "u", "channel": "web", "text": ' + _nested(2_000) + b"}",
        ),
        # numbers DynamoDB cannot store (magnitude 1e-130 to 1e126, 38 digits)
        Attack(
            "risk score: amount 1e-200",
            "POST",
            "/risk/score",
            "admin",
            transaction(f"host-{RUN}-tiny", 1e-200),
            _item("RiskResultsTable", {"transaction_id": f"host-{RUN}-tiny"}),
        ),
        Attack(
            "risk score: amount 1e300",
            "POST",
            "/risk/score",
            "admin",
            transaction(f"host-{RUN}-huge", 1e300),
            _item("RiskResultsTable", {"transaction_id": f"host-{RUN}-huge"}),
        ),
        Attack(
            "pricing sku settings: cost 1e-140",
            "PUT",
            f"/pricing/skus/host-{RUN}-sku",
            "admin",
            {"cost": 1e-140, "stage": "mature", "floor": 1.0, "ceiling": 2.0},
            _item("PricingCatalogTable", {"sku": f"host-{RUN}-sku"}),
            fast=True,
        ),
        Attack(
            "catalogue price 1e130",
            "PUT",
            f"/catalog/items/host-{RUN}-item",
            "admin",
            {**CATALOGUE_ITEM, "price": 1e130},
            _table_count("CatalogTable"),
            fast=True,
        ),
        Attack(
            "pricing quote: a price of 1e-135",
            "POST",
            "/pricing/quote",
            "anonymous",
            {"sku": "oj-2-1", "prices": [1e-135]},
        ),
    ]
    return rows + [scope_attack(*row) for row in SCOPES]


# Who may not call what: (caller, method, path, body, expected status). The part 1 adds the
# checkout, events, labels and operator callers; their rows go here.
SCOPES: list[tuple[str, str, str, Any, int]] = [
    ("anonymous", "POST", "/models/risk-model/activate", {"version": "1"}, 401),
    ("ingest", "POST", "/models/risk-model/activate", {"version": "1"}, 403),
    ("anonymous", "PUT", "/risk/blocklist/device/d-666", {"blocked": True}, 401),
    ("ingest", "PUT", "/risk/blocklist/device/d-666", {"blocked": True}, 403),
    ("ingest", "POST", "/risk/labels", {"transaction_id": "t-1", "is_fraud": True, "source": "chargeback"}, 403),
    ("anonymous", "GET", "/risk/transactions/t-1", None, 401),
    ("anonymous", "POST", "/events", {"events": []}, 401),
    ("anonymous", "DELETE", "/users/u-1", None, 401),
    ("ingest", "DELETE", "/users/u-1", None, 403),
    ("ingest", "PUT", "/experiments/exp-1", {}, 403),
    ("anonymous", "GET", "/users/u-1/profile", None, 401),
]


def scope_attack(caller: str, method: str, path: str, body: Any, expected: int) -> Attack:
    return Attack(f"scope: {caller} {method} {path}", method, path, caller, body, None, None, (expected,), fast=True)


# -- schemathesis -----------------------------------------------------------------------------------------


def schemathesis(up: Up, examples: int, workdir: Path) -> tuple[int, str]:
    """The platform's contract fuzzing (tests/e2e/platform/test_contract.py), with `examples` per route;
    (exit code, its summary)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        str(ROOT / "docs/openapi.json"),
        "--url",
        up.http,
        "--header",
        f"x-api-key: {up.admin_key}",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples",
        str(examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--mode",
        "all",
        "--seed",
        "1",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--exclude-path",
        "/pricing/reprice",
        "--suppress-health-check",
        "all",
    ]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=3600)
    (workdir / "schemathesis.txt").write_text(result.stdout + result.stderr)
    return result.returncode, result.stdout

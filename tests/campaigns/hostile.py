"""Hostile input: hand-written attacks against a running stack, each of which must end in a 4xx and change
no state (the state the attack aims at is read from the stores before and after), plus the platform's
schemathesis run (tests/e2e/platform/test_contract.py's command, with more examples).

Attacks are rows of small tables, so a new route or a new caller scope is one more row:
- SCOPES: (caller, method, path, body, expected status) -- who may not call what: for each caller kind
  (checkout, events, labels, operator, and a forged admin key), an escalation to a route it may not call.
- ATTACKS: for each idempotency key of the project (risk score transaction id, account event id, label
  transaction id, POST /events event id, reprice idempotency key) a replay and a pre-claim (the same key,
  a different request: 409 and no state change) and the identical retry (2xx, the first answer, no state
  change); identifier tricks, oversize and deep bodies, numbers outside DynamoDB's range.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.campaigns._up import Up
from tests.campaigns.queues import now_iso
from tests.support.contract import schemathesis_command


class Target(Protocol):
    """Where attacks go: a running stack over HTTP (`Up`), or the gateway in process (the integration test)."""

    def key(self, kind: str) -> str: ...

    def client(self, service: str) -> Any: ...

    def name(self, logical_id: str) -> str: ...

    def request(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> tuple[int, str]: ...


Probe = Callable[[Target], Any]


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    caller: str = "anonymous"  # anonymous, a caller kind (checkout, events, labels, operator, admin) or forged
    body: Any = None  # JSON-able, or bytes sent as they are
    probe: Probe | None = None  # the state the attack aims at; read before and after
    setup: Callable[[Target], str] | None = None  # what a legitimate caller did first (its answer)
    expect: tuple[int, ...] = ()  # statuses that pass (empty: any 4xx)
    fast: bool = False  # needs no model and no queue: also run by tests/integration/platform/test_hostile_input.py
    same_answer: bool = False  # the identical retry: a 2xx whose answer is the setup's first answer


@dataclass
class Verdict:
    attack: Attack
    status: int
    changed: bool
    detail: str

    first: str | None = None  # the setup's answer, for an identical retry

    @property
    def passed(self) -> bool:
        ok_status = self.status in self.attack.expect if self.attack.expect else 400 <= self.status < 500
        same = not self.attack.same_answer or answers_match(self.first, self.detail)
        return ok_status and same and not self.changed


# What an identical retry may answer differently from the first: that it is a retry.
RETRY_MARKERS = {"replayed", "duplicates", "duplicate", "accepted", "applied"}


def answers_match(first: str | None, again: str) -> bool:
    """The retry's answer is the first one (JSON compared without the fields that say it is a retry)."""
    try:
        a, b = json.loads(first or ""), json.loads(again)
    except ValueError:
        return first == again
    if isinstance(a, dict) and isinstance(b, dict):
        a, b = ({k: v for k, v in d.items() if k not in RETRY_MARKERS} for d in (a, b))
    return bool(a == b)


def _headers(up: Target, caller: str) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "forged-admin":  # the admin key with one character changed
        real = up.key("admin")
        return {"x-api-key": real[:-1] + ("x" if real[-1] != "x" else "y")}
    return {"x-api-key": up.key(caller)}


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
    first = attack.setup(up) if attack.setup is not None else None
    before = attack.probe(up) if attack.probe else None
    status, text = send(up, attack.method, attack.path, attack.caller, attack.body)
    time.sleep(settle)
    after = attack.probe(up) if attack.probe else None
    return Verdict(attack, status, before != after, text if attack.same_answer else text[:200], first)


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


def _scored(tid: str, amount: float = 12.5) -> Callable[[Target], str]:
    return _posted("/risk/score", transaction(tid, amount), "checkout")


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


def _posted(path: str, body: dict[str, Any], caller: str = "admin") -> Callable[[Target], str]:
    def post(up: Target) -> str:
        status, text = send(up, "POST", path, caller, body)
        if status >= 400:
            raise RuntimeError(f"setup {path} answered {status}: {text[:200]}")
        return text

    return post


def _label(tid: str, reported_at: str) -> dict[str, Any]:
    return {"transaction_id": tid, "is_fraud": True, "source": "chargeback", "reported_at": reported_at}


def _labelled(tid: str, body: dict[str, Any] | None = None) -> Callable[[Target], str]:
    def label(up: Target) -> str:
        _scored(tid)(up)
        return _posted("/risk/labels", body or _label(tid, now_iso()), "labels")(up)

    return label


def _reprice(key: str, sku: str) -> dict[str, Any]:
    # a dry run of one SKU: it changes no price, so only the key's record is at stake
    return {"skus": [sku], "dry_run": True, "idempotency_key": key}


def _nested(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def attacks() -> list[Attack]:
    t_replay, t_claim, t_label = f"host-{RUN}-replay", f"host-{RUN}-claim", f"host-{RUN}-label"
    e_replay, t_relabel = f"host-{RUN}-ev", f"host-{RUN}-relabel"
    t_retry, e_retry, b_retry, l_retry = (f"host-{RUN}-{k}-retry" for k in ("t", "e", "b", "l"))
    r_claim, r_retry = f"host-{RUN}-reprice-claim", f"host-{RUN}-reprice-retry"
    long_id = "x" * 5000
    labelled_at = now_iso()
    rows = [
        # For each idempotency key: a replay or pre-claim (the same key, another request: a 409, nothing
        # changed), and the identical retry (the first answer, nothing changed).
        # -- risk score: the transaction id
        Attack(
            "risk score: replay of a scored id with another amount",
            "POST",
            "/risk/score",
            "checkout",
            transaction(t_replay, amount=999.0),
            _item("RiskResultsTable", {"transaction_id": t_replay}),
            _scored(t_replay),
            (409,),
        ),
        Attack(
            "risk score: the real payment after a stranger pre-claimed its id with a harmless one",
            "POST",
            "/risk/score",
            "checkout",
            transaction(t_claim, amount=4999.0, device_id="real-device"),
            _item("RiskResultsTable", {"transaction_id": t_claim}),
            _scored(t_claim, amount=1.0),
            (409,),
        ),
        Attack(
            "risk score: the identical retry gets the first answer",
            "POST",
            "/risk/score",
            "checkout",
            transaction(t_retry),
            _item("RiskResultsTable", {"transaction_id": t_retry}),
            _posted("/risk/score", transaction(t_retry), "checkout"),
            (200,),
            same_answer=True,
        ),
        # -- risk account events: the event id
        Attack(
            "risk account event: the same event id with a different body (replay or pre-claim)",
            "POST",
            "/risk/events",
            "checkout",
            _account_event(e_replay, success=False),
            _item("RiskResultsTable", {"transaction_id": f"event#{e_replay}"}),
            _posted("/risk/events", _account_event(e_replay, success=True), "checkout"),
            (409,),
        ),
        Attack(
            "risk account event: the identical retry gets the first answer",
            "POST",
            "/risk/events",
            "checkout",
            _account_event(e_retry, success=False),
            _item("RiskResultsTable", {"transaction_id": f"event#{e_retry}"}),
            _posted("/risk/events", _account_event(e_retry, success=False), "checkout"),
            (200, 202),
            same_answer=True,
        ),
        # -- risk labels: the transaction id
        Attack(
            "risk label: an older label replayed over the correction that followed it",
            "POST",
            "/risk/labels",
            "labels",
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
            "risk label: the identical retry gets the first answer",
            "POST",
            "/risk/labels",
            "labels",
            _label(l_retry, labelled_at),
            _item("RiskResultsTable", {"transaction_id": l_retry}),
            _labelled(l_retry, _label(l_retry, labelled_at)),
            (200, 202),
            same_answer=True,
        ),
        Attack(
            "risk label: a label for a transaction never scored",
            "POST",
            "/risk/labels",
            "labels",
            {"transaction_id": t_label, "is_fraud": True, "source": "chargeback"},
            _item("RiskResultsTable", {"transaction_id": t_label}),
            None,
            (404,),
        ),
        # -- behaviour events: the event id
        Attack(
            "behaviour event: the same event id with a different body (replay or pre-claim)",
            "POST",
            "/events",
            "events",
            {"events": [_behaviour_event(e_replay, "purchase")]},
            None,
            _posted("/events", {"events": [_behaviour_event(e_replay, "view")]}, "events"),
            (409,),
        ),
        Attack(
            "behaviour event: the identical retry gets the first answer",
            "POST",
            "/events",
            "events",
            {"events": [_behaviour_event(b_retry, "view")]},
            None,
            _posted("/events", {"events": [_behaviour_event(b_retry, "view")]}, "events"),
            (200, 202),
            same_answer=True,
        ),
        # -- pricing reprice requests: the caller's idempotency key
        Attack(
            "reprice: the same idempotency key with another request (replay or pre-claim)",
            "POST",
            "/pricing/reprice",
            "admin",
            _reprice(r_claim, "oj-2-2"),
            None,
            _posted("/pricing/reprice", _reprice(r_claim, "oj-2-1")),
            (409,),
        ),
        Attack(
            "reprice: the identical retry gets the first answer",
            "POST",
            "/pricing/reprice",
            "admin",
            _reprice(r_retry, "oj-2-1"),
            None,
            _posted("/pricing/reprice", _reprice(r_retry, "oj-2-1")),
            (200, 202),
            same_answer=True,
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
        Attack("forecast sku with a traversal", "GET", "/forecasts/..%2F..%2Fetc", "operator"),
        # oversize and deep bodies
        Attack(
            "risk score: a 7 MB body",
            "POST",
            "/risk/score",
            "checkout",
            b'{"pad": "' + b"x" * 7_000_000 + b'"}',
            _table_count("RiskResultsTable"),
        ),
        Attack(
            "risk score: JSON nested 100,000 deep",
            "POST",
            "/risk/score",
            "checkout",
            _nested(100_000),
            _table_count("RiskResultsTable"),
        ),
        Attack("events: JSON nested 5,000 deep", "POST", "/events", "events", _nested(5_000), fast=True),
        Attack(
            "support message: properties nested 2,000 deep",
            "POST",
            "/support/messages",
            "events",
            b'{"user_id": "u", "channel": "web", "text": ' + _nested(2_000) + b"}",
        ),
        # numbers DynamoDB cannot store (magnitude 1e-130 to 1e126, 38 digits)
        Attack(
            "risk score: amount 1e-200",
            "POST",
            "/risk/score",
            "checkout",
            transaction(f"host-{RUN}-tiny", 1e-200),
            _item("RiskResultsTable", {"transaction_id": f"host-{RUN}-tiny"}),
        ),
        Attack(
            "risk score: amount 1e300",
            "POST",
            "/risk/score",
            "checkout",
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
            "operator",
            {"sku": "oj-2-1", "prices": [1e-135]},
        ),
    ]
    return rows + [scope_attack(*row) for row in SCOPES]


# Who may not call what: (caller, method, path, body, expected status). Each caller kind of template.yaml's
# CALLER_SCOPES tries routes outside its scopes (403); a forged admin key and no key at all are 401s.
LABEL = {"transaction_id": "t-1", "is_fraud": True, "source": "chargeback"}
SCOPES: list[tuple[str, str, str, Any, int]] = [
    ("anonymous", "POST", "/models/risk-model/activate", {"version": "1"}, 401),
    ("anonymous", "PUT", "/risk/blocklist/device/d-666", {"blocked": True}, 401),
    ("anonymous", "GET", "/risk/transactions/t-1", None, 401),
    ("anonymous", "POST", "/risk/score", {}, 401),
    ("anonymous", "POST", "/events", {"events": []}, 401),
    ("anonymous", "DELETE", "/users/u-1", None, 401),
    ("anonymous", "GET", "/users/u-1/profile", None, 401),
    ("anonymous", "GET", "/pricing/skus/oj-2-1", None, 401),
    ("forged-admin", "POST", "/models/risk-model/activate", {"version": "1"}, 401),
    ("forged-admin", "DELETE", "/users/u-1", None, 401),
    # checkout: scores payments and sends account events, nothing else
    ("checkout", "POST", "/risk/labels", LABEL, 403),
    ("checkout", "GET", "/risk/transactions/t-1", None, 403),
    ("checkout", "PUT", "/risk/blocklist/device/d-666", {"blocked": True}, 403),
    ("checkout", "POST", "/models/risk-model/activate", {"version": "1"}, 403),
    # events: the shop's backend sends behaviour events and acts for one user, nothing else
    ("events", "POST", "/risk/score", {}, 403),
    ("events", "PUT", "/risk/blocklist/device/d-666", {"blocked": True}, 403),
    ("events", "DELETE", "/users/u-1", None, 403),
    ("events", "PUT", "/experiments/exp-1", {}, 403),
    # labels: posts labels, nothing else
    ("labels", "POST", "/risk/score", {}, 403),
    ("labels", "GET", "/risk/transactions/t-1", None, 403),
    ("labels", "POST", "/models/risk-model/activate", {"version": "1"}, 403),
    # operator: reads and blocks, never models, settings, experiments, labels or erasure
    ("operator", "POST", "/models/risk-model/activate", {"version": "1"}, 403),
    ("operator", "PUT", "/pricing/skus/oj-2-1", {"cost": 1.0}, 403),
    ("operator", "PUT", "/experiments/exp-1", {}, 403),
    ("operator", "POST", "/risk/labels", LABEL, 403),
    ("operator", "DELETE", "/users/u-1", None, 403),
]


def scope_attack(caller: str, method: str, path: str, body: Any, expected: int) -> Attack:
    return Attack(f"scope: {caller} {method} {path}", method, path, caller, body, None, None, (expected,), fast=True)


# -- schemathesis -----------------------------------------------------------------------------------------


def schemathesis(up: Up, examples: int, workdir: Path, timeout: float = 3600.0) -> tuple[int, str]:
    """The platform's contract fuzzing (tests/support/contract.py, as tests/e2e/platform/test_contract.py
    runs it), with `examples` per route; (exit code, its summary)."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = schemathesis_command(up.http, up.admin_key, examples)
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=timeout)
    (workdir / "schemathesis.txt").write_text(result.stdout + result.stderr)
    return result.returncode, result.stdout

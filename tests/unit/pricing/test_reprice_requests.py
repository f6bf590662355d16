"""Idempotency keys on reprice requests: claimed with the request's digest, answered once, replayed to an
identical retry, refused (409) for a different request, given back when the request fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai.errors import Conflict
from commerce_ai.idempotency import KeyReused, request_digest
from commerce_ai.pricing import service
from commerce_ai.pricing.contract import RepriceNowRequest
from commerce_ai.pricing.reprice_requests import RETENTION, STALE_CLAIM, Answer, RepriceRequests
from tests.unit.fakes import FakeDynamoDB

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
TABLE = "pricing"


@pytest.fixture
def requests() -> RepriceRequests:
    return RepriceRequests(TABLE, FakeDynamoDB(key_schemas={TABLE: ("sku", "item")}))


def test_a_key_is_answered_once_and_its_retry_gets_the_first_answer(requests: RepriceRequests) -> None:
    assert requests.claim("k-1", "digest-a", NOW) is None
    requests.answer("k-1", "digest-a", Answer(202, {"tick": "2026-12-06T07:00:00.000Z", "state": "queued"}))
    first = requests.claim("k-1", "digest-a", NOW + timedelta(hours=1))
    assert first == Answer(202, {"tick": "2026-12-06T07:00:00.000Z", "state": "queued"})


def test_a_different_request_under_a_used_key_is_a_409_that_says_so(requests: RepriceRequests) -> None:
    requests.claim("k-1", "digest-a", NOW)
    with pytest.raises(KeyReused, match="idempotency_key 'k-1' was already used for a different request"):
        requests.claim("k-1", "digest-b", NOW)  # while the first is running...
    requests.answer("k-1", "digest-a", Answer(200, {"applied": 1}))
    with pytest.raises(KeyReused):
        requests.claim("k-1", "digest-b", NOW)  # ...and once it is answered


def test_a_retry_while_the_first_still_runs_is_asked_to_wait(requests: RepriceRequests) -> None:
    requests.claim("k-1", "digest-a", NOW)
    with pytest.raises(Conflict, match="still being answered"):
        requests.claim("k-1", "digest-a", NOW + timedelta(seconds=5))
    # A claim its request never answered (the container died) is taken again once stale.
    assert requests.claim("k-1", "digest-a", NOW + STALE_CLAIM + timedelta(seconds=1)) is None


def test_a_failed_request_gives_its_key_back_and_an_old_key_expires(requests: RepriceRequests) -> None:
    requests.claim("k-1", "digest-a", NOW)
    requests.release("k-1", "digest-a")
    assert requests.claim("k-1", "digest-a", NOW + timedelta(seconds=1)) is None, "its retry runs"
    requests.answer("k-1", "digest-a", Answer(200, {"applied": 1}))
    requests.release("k-1", "digest-a")  # an answered key is never given back
    assert requests.claim("k-1", "digest-a", NOW) == Answer(200, {"applied": 1})
    assert requests.claim("k-1", "digest-b", NOW + RETENTION + timedelta(minutes=1)) is None, "past retention: free"


def test_reprice_once_runs_an_identical_retry_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = FakeDynamoDB(key_schemas={TABLE: ("sku", "item")})
    monkeypatch.setattr(service, "RepriceRequests", lambda table: RepriceRequests(table, ddb))
    monkeypatch.setattr(service, "settings", lambda: type("S", (), {"need": staticmethod(lambda name: TABLE)})())
    runs: list[int] = []

    def run() -> tuple[int, dict[str, Any]]:
        runs.append(1)
        return 200, {"applied": len(runs)}

    body = RepriceNowRequest(skus=["oj-2-1"], idempotency_key="k-1")
    assert service.reprice_once(body.idempotency_key, body, NOW, run) == (200, {"applied": 1})
    same = RepriceNowRequest.model_validate({"idempotency_key": "k-1", "skus": ["oj-2-1"]})  # other key order
    assert request_digest(same) == request_digest(body)
    assert service.reprice_once(same.idempotency_key, same, NOW, run) == (200, {"applied": 1}) and len(runs) == 1
    other = RepriceNowRequest(skus=["oj-2-1"], dry_run=True, idempotency_key="k-1")
    with pytest.raises(KeyReused):
        service.reprice_once(other.idempotency_key, other, NOW, run)
    unkeyed = RepriceNowRequest(skus=["oj-2-1"])
    assert service.reprice_once(None, unkeyed, NOW, run) == (200, {"applied": 2}), "no key: every request runs"

    def failing() -> tuple[int, dict[str, Any]]:
        raise Conflict("a whole-catalog reprice is already queued")

    whole = RepriceNowRequest(idempotency_key="k-2")
    with pytest.raises(Conflict):
        service.reprice_once(whole.idempotency_key, whole, NOW, failing)
    assert service.reprice_once(whole.idempotency_key, whole, NOW, run) == (200, {"applied": 3}), "retried: it runs"

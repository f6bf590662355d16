"""POST /events (functions/stream/app.py) through Chalice's test client, over in-memory AWS: 202 with
per-event rejections, 400 for a body that is not a batch, 409 for an event id reused by a different event,
and never anonymous."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.config import settings
from infra.runner.invoker import load_handler
from infra.template import ROOT, Stack
from tests.unit.fakes import FakeAws, FakeSSMProvider

INGEST_KEY, ADMIN_KEY = "unit-ingest-key", "unit-admin-key"
JSON = {"Content-Type": "application/json"}


def raw(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "user_id": "u-1",
        "session_id": "s-1",
        "event_type": "view",
        "timestamp": "2026-12-05T10:00:00Z",
        "item_id": "sku-1",
        **changes,
    }


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> Iterator[Any]:
    fn = Stack().function("BehaviourEventsApiFunction")
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    fake_aws.dynamodb.key_schemas[fn.environment["STREAM_LEDGER_TABLE"]] = ("consumer", "event_id")
    ssm = FakeSSMProvider(
        {fn.environment["INGEST_API_KEY_PARAMETER"]: INGEST_KEY, fn.environment["ADMIN_API_KEY_PARAMETER"]: ADMIN_KEY}
    )
    monkeypatch.setattr(http, "_ssm_provider", ssm)
    with Client(load_handler(fn.code_uri, fn.module, fn.attribute)) as test_client:
        yield test_client


def post(client: Any, body: Any, key: str | None = INGEST_KEY) -> tuple[int, Any]:
    headers = {**JSON, **({"x-api-key": key} if key else {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = client.http.post("/events", headers=headers, body=data)
    return response.status_code, json.loads(response.body)


def test_good_events_are_accepted_beside_bad_ones(client: Any, fake_aws: FakeAws) -> None:
    status, body = post(client, {"events": [raw(0), raw(1, quantity="2"), raw(2)]})
    assert status == 202
    assert body == {
        "accepted": 2,
        "rejected": [
            {
                "index": 1,
                "event_id": "e-1",
                "errors": [{"field": "quantity", "problem": "Input should be a valid integer"}],
            }
        ],
    }
    assert [json.loads(p["Message"])["event_id"] for p in fake_aws.sns.published] == ["e-0", "e-2"]


def test_a_batch_of_only_bad_events_is_still_a_202_and_publishes_nothing(client: Any, fake_aws: FakeAws) -> None:
    status, body = post(client, {"events": [{"event_id": "e-1"}]})
    assert (status, body["accepted"], len(body["rejected"])) == (202, 0, 1)
    assert fake_aws.sns.calls == []


def test_the_sample_event_is_accepted_whole(client: Any) -> None:
    sample = json.loads((ROOT / "events/stream/BehaviourEventsApiFunction-PostEvents.json").read_text())
    status, body = post(client, sample["body"].encode())
    assert (status, body) == (202, {"accepted": 5, "rejected": []})


@pytest.mark.parametrize(
    "bad",
    [
        b"not json",
        b"[]",
        {"events": []},
        {"events": [raw(n) for n in range(101)]},
        {"events": "e-1"},
        {"events": [raw(0)], "extra": 1},
        {"event": [raw(0)]},
    ],
)
def test_a_body_that_is_not_a_batch_is_a_400(client: Any, bad: Any) -> None:
    status, body = post(client, bad)
    assert status == 400 and body["Code"] == "BadRequestError"


def test_the_admin_key_is_accepted_too(client: Any) -> None:
    assert post(client, {"events": [raw(0)]}, key=ADMIN_KEY)[0] == 202


def test_no_key_is_a_401_and_a_wrong_one_a_403(client: Any, fake_aws: FakeAws) -> None:
    assert post(client, {"events": [raw(0)]}, key=None)[0] == 401
    assert post(client, {"events": [raw(0)]}, key="guess")[0] == 403
    assert fake_aws.sns.calls == []


def test_a_topic_that_keeps_failing_is_a_503(client: Any, fake_aws: FakeAws) -> None:
    fake_aws.sns.fail_ids = [{"0"}, {"0"}, {"0"}]
    status, body = post(client, {"events": [raw(0)]})
    assert status == 503 and body["Code"] == "ServiceUnavailableError"


def test_every_sample_event_of_the_stream_is_valid_json() -> None:
    for path in Path(ROOT / "events/stream").glob("*.json"):
        json.loads(path.read_text())


def test_a_resent_event_is_accepted_again_and_a_different_one_under_its_id_is_a_409(
    client: Any, fake_aws: FakeAws
) -> None:
    assert post(client, {"events": [raw(0), raw(1)]}) == (202, {"accepted": 2, "rejected": []})
    assert post(client, {"events": [raw(1), raw(2)]}) == (202, {"accepted": 2, "rejected": []})  # a resend
    status, body = post(client, {"events": [raw(3), raw(1, item_id="sku-9")]})
    assert status == 409 and body["Code"] == "ConflictError"
    assert "'e-1'" in body["Message"] and "different event" in body["Message"] and "sku" not in body["Message"]
    published = [json.loads(p["Message"])["event_id"] for p in fake_aws.sns.published]
    assert published == ["e-0", "e-1", "e-1", "e-2"]  # nothing of the refused batch, e-3 included
    assert post(client, {"events": [raw(3)]})[0] == 202  # e-3 was not claimed by the refused batch


def test_one_id_for_two_different_events_in_one_batch_is_a_409(client: Any, fake_aws: FakeAws) -> None:
    status, body = post(client, {"events": [raw(0), raw(0, item_id="sku-2")]})
    assert status == 409 and "'e-0'" in body["Message"]
    assert fake_aws.sns.calls == []
    assert post(client, {"events": [raw(0), raw(0)]}) == (202, {"accepted": 2, "rejected": []})  # the same twice

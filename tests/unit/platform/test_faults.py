"""The campaigns' fault layer (infra/runner/faults.py): each injected fault reaches the code as the SDK
would surface the real one, and the plan file decides which processes are hit and how often."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from infra.runner.faults import FaultInjector

UNREACHABLE = "http://127.0.0.1:9"  # nothing answers: an injected fault must never need the network


def client(service: str, injector: FaultInjector) -> Any:
    made = boto3.session.Session().client(
        service,
        endpoint_url=UNREACHABLE,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1, read_timeout=1),
    )
    made.meta.events.register("before-send", injector.before_send)
    return made


def always(tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch) -> FaultInjector:
    injector = FaultInjector(tmp_path / "absent.json", "commerce-ai-RiskApiFunction")
    monkeypatch.setattr(injector, "choose", lambda: fault)
    return injector


@pytest.mark.parametrize(
    ("service", "fault", "code"),
    [
        ("dynamodb", "throttle", "ThrottlingException"),
        ("dynamodb", "server-error", "InternalServerError"),
        ("sqs", "throttle", "ThrottlingException"),
        ("s3", "throttle", "SlowDown"),
        ("s3", "server-error", "InternalError"),
    ],
)
def test_throttles_and_server_errors_surface_as_the_services_own_retryable_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, service: str, fault: str, code: str
) -> None:
    made = client(service, always(tmp_path, fault, monkeypatch))
    calls = {
        "dynamodb": lambda: made.get_item(TableName="t", Key={"k": {"S": "1"}}),
        "sqs": lambda: made.get_queue_url(QueueName="q"),
        "s3": lambda: made.head_bucket(Bucket="b"),
    }
    with pytest.raises(ClientError) as raised:
        calls[service]()
    assert raised.value.response["Error"]["Code"] in (code, "503", "500")  # HEAD has no body to parse
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 500, 503)


def test_a_connection_error_is_raised_before_anything_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = client("dynamodb", always(tmp_path, "connection-error", monkeypatch))
    with pytest.raises(EndpointConnectionError):
        made.get_item(TableName="t", Key={"k": {"S": "1"}})


def test_the_plan_file_sets_the_rate_and_the_functions_it_hits(tmp_path: Path) -> None:
    plan = tmp_path / "faults.json"
    hit = FaultInjector(plan, "commerce-ai-RiskBulkScoringFunction", seed=1)
    spared = FaultInjector(plan, "commerce-ai-PricingApiFunction", seed=1)
    assert hit.choose() is None  # no plan file: nothing injected
    plan.write_text(json.dumps({"rate": 1.0, "functions": ["RiskBulkScoring"]}))
    hit._read_at = spared._read_at = 0.0  # re-read now rather than in half a second
    assert hit.choose() in ("throttle", "server-error", "connection-error", "timeout-after-send")
    assert spared.choose() is None


def test_crash_after_calls_kills_at_a_known_call(tmp_path: Path) -> None:
    plan = tmp_path / "faults.json"
    plan.write_text(json.dumps({"crash_after_calls": 3}))
    injector = FaultInjector(plan, "commerce-ai-RiskAccountEventsFunction")
    assert [injector.choose() for _ in range(3)] == [None, None, "crash-after"]


def test_each_function_takes_the_first_plan_that_names_it(tmp_path: Path) -> None:
    # Given two campaigns at once: faults for one consumer, crashes for another
    plan = tmp_path / "faults.json"
    plans = [{"rate": 0.05, "functions": ["RiskAccountEvents"]}, {"crash_rate": 0.01, "functions": ["RepriceChunk"]}]
    plan.write_text(json.dumps({"plans": plans}))
    # then each function sees its own plan, and a function neither names sees none
    assert FaultInjector(plan, "commerce-ai-RiskAccountEventsFunction").plan().rate == 0.05
    assert FaultInjector(plan, "commerce-ai-RepriceChunkFunction").plan().crash_rate == 0.01
    assert FaultInjector(plan, "commerce-ai-RiskApiFunction").choose() is None

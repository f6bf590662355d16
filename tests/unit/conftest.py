"""Unit-test guard rails: no network, no configuration leaking in from the shell, fresh singletons.

Every unit test runs with sockets unable to connect and DNS unable to resolve, so a code path that would
reach AWS (or the local emulator) fails loudly instead of quietly talking to whatever is listening.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from commerce_ai import aws, health, http
from commerce_ai.config import clear_cached_settings, declared_variables
from infra.template import Stack
from tests.unit.fakes import UNIT_PSEUDONYM_KEY, FakeAws, FakeClock

# The risk graph's pseudonym key for every build in unit tests, session fixtures' included (they are set up
# before any function fixture), so no unit test writes or reads a key file (model_build.risk.pseudonym_key).
os.environ["RISK_PSEUDONYM_KEY"] = UNIT_PSEUDONYM_KEY

hypothesis_settings.register_profile(
    "unit", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
hypothesis_settings.load_profile("unit")


class NetworkBlocked(RuntimeError):
    """A unit test tried to open a network connection."""


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise NetworkBlocked(f"unit tests must not use the network (attempted with {args[1:]!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)


# Every variable a settings module declares (commerce_ai.config and each package's settings.py).
_CONFIG_VARIABLES = tuple(sorted(declared_variables()))
_AWS_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_FUNCTION_NAME",
    "POWERTOOLS_SERVICE_NAME",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No configuration from the developer's shell; settings, health and AWS clients start fresh."""
    for name in (*_CONFIG_VARIABLES, *_AWS_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setattr(health, "_reporter", None)
    monkeypatch.setattr(http, "_ssm_provider", None)
    clear_cached_settings()
    aws.reset_clients()
    yield
    clear_cached_settings()
    aws.reset_clients()


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    """`commerce_ai.aws.client(service)` answers with in-memory fakes (dynamodb, s3, sqs)."""
    fakes = FakeAws()
    monkeypatch.setattr(aws, "client", fakes.client)
    return fakes


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The real template.yaml, resolved against the default local Env (pure parsing, no AWS)."""
    return Stack()

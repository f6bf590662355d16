"""The unit-test guard rails themselves: the network is unreachable and configuration starts empty."""

from __future__ import annotations

import os
import socket

import pytest

from commerce_ai import aws
from commerce_ai.config import declared_variables
from tests.unit.conftest import NetworkBlocked


def test_sockets_cannot_connect() -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("127.0.0.1", 4566), timeout=0.1)
    with socket.socket() as raw, pytest.raises(NetworkBlocked):
        raw.connect(("127.0.0.1", 4566))


def test_names_cannot_be_resolved() -> None:
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("dynamodb.us-east-1.amazonaws.com", 443)


def test_a_real_aws_client_cannot_reach_aws() -> None:
    with pytest.raises(Exception) as caught:
        aws.client("s3").list_buckets()
    chain = []
    error: BaseException | None = caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, NetworkBlocked) for e in chain), chain


def test_no_function_configuration_leaks_in_from_the_shell() -> None:
    assert not any(os.environ.get(name) for name in declared_variables())
    assert "AWS_ENDPOINT_URL" not in os.environ

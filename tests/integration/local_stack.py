"""Shared by the integration tests of every capability: the HTTP gateway over in-process handlers, and
the artifact-events function run on whatever S3 has queued."""

from __future__ import annotations

import json
import time
from typing import Any

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from infra.runner.http_gateway import CallerCheck, Gateway
from infra.runner.local import api_routes
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.support.callers import CALLER_KEYS
from tests.support.invoke import in_process


def call(
    gateway: Gateway, method: str, path: str, body: Any = None, key: str | None = None, caller: str | None = None
) -> tuple[int, Any]:
    """One request through the gateway, with `key` or as the caller kind `caller` (tests.support.callers)."""
    headers = {"Content-Type": "application/json"}
    if caller is not None:
        key = CALLER_KEYS[caller]
    if key is not None:
        headers["x-api-key"] = key
    raw = json.dumps(body).encode() if body is not None else b""
    status, _, payload = gateway.handle(method, path, headers, raw, "127.0.0.1")
    return status, json.loads(payload)


def artifact_source(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("ArtifactEventsQueue"))["QueueUrl"]
    return QueueSource(
        "ArtifactEventsFunction", url, stack.arn("ArtifactEventsQueue"), batch_size=10, report_failures=True
    )


def drain(stack: Stack, registry: ModelRegistry, name: str, versions: int, timeout: float = 20.0) -> None:
    """Run the artifact-events function on whatever S3 has queued until `versions` are recorded."""
    source, invoke = artifact_source(stack), in_process(stack)
    deadline = time.monotonic() + timeout
    while len(registry.versions(name)) < versions:
        assert time.monotonic() < deadline, f"only {registry.versions(name)} recorded"
        source.poll_once(invoke, wait_seconds=1)


def gateway_for(stack: Stack) -> Gateway:
    return Gateway(api_routes(stack), in_process(stack), callers=CallerCheck.from_stack(stack))

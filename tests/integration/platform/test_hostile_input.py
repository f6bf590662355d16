"""The hostile-input campaign's fast attacks (tests/campaigns/hostile.py, rows marked `fast`: identifier
tricks, numbers outside DynamoDB's range, deep bodies, callers without the scope), through the gateway in
process: each must end in a 4xx and leave the state it aims at unchanged. The whole campaign, with the
replays and pre-claims that need served models, runs in `make campaigns` (reports/reliability.md)."""

from __future__ import annotations

from typing import Any

import pytest

from commerce_ai import aws
from infra.runner.http_gateway import Gateway
from infra.template import Stack
from tests.campaigns.hostile import Attack, attacks, run_attack
from tests.integration.local_stack import gateway_for
from tests.support import callers

pytestmark = pytest.mark.integration

FAST = [a for a in attacks() if a.fast]


class InProcess:
    """The campaign's target, served by the gateway in this process against the test emulator."""

    def __init__(self, stack: Stack, gateway: Gateway) -> None:
        self.stack = stack
        self.gateway = gateway

    def key(self, kind: str) -> str:
        return callers.key(kind)

    def client(self, service: str) -> Any:
        return aws.client(service)

    def name(self, logical_id: str) -> str:
        return self.stack.physical_name(logical_id)

    def request(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> tuple[int, str]:
        status, _, payload = self.gateway.handle(method, path, headers, data or b"", "198.51.100.7")
        return status, payload.decode(errors="replace")


@pytest.fixture(scope="module")
def target(stack: Stack) -> InProcess:
    return InProcess(stack, gateway_for(stack))


@pytest.mark.parametrize("attack", FAST, ids=[a.name for a in FAST])
def test_a_hostile_request_ends_in_a_4xx_and_changes_nothing(target: InProcess, attack: Attack) -> None:
    verdict = run_attack(target, attack, settle=0.0)  # in process: nothing is queued
    assert verdict.passed, (verdict.status, verdict.changed, verdict.detail)

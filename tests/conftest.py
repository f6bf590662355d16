"""Shared fixtures. Integration and e2e tests get a moto server of their own on a free port, so a
running `make run` (on :4566/:3000) never collides with `make test`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra import emulator as emu
from infra.bootstrap import bootstrap
from infra.template import Env, Stack
from tests.support.callers import ADMIN_KEY, INGEST_KEY, OTHER_CALLER_KEYS
from tests.support.local_aws import function_environment, patched_environ

__all__ = ["ADMIN_KEY", "INGEST_KEY"]  # imported by tests from here; every caller's key: tests.support.callers


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emu.Emulator]:
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    server = emu.start_moto_on_a_free_port(log_path=log)
    try:
        with patched_environ(server.environ()):
            yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stack(local_aws: emu.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real template, bootstrapped in the test emulator, with its function environment applied."""
    stack = Stack(env=Env(queue_endpoint=local_aws.endpoint))
    bootstrap(stack, admin_key=ADMIN_KEY, ingest_key=INGEST_KEY, caller_keys=OTHER_CALLER_KEYS)
    with patched_environ(function_environment(stack, tmp_path_factory.mktemp("model-cache"), "0")):
        yield stack

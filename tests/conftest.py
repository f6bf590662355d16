"""Shared fixtures. Integration and e2e tests get a moto server of their own on a free port, so a
running `make run` (on :4566/:3000) never collides with `make test`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from commerce_ai import aws
from commerce_ai.config import settings
from infra import emulator as emu
from infra.bootstrap import admin_key_parameter, bootstrap
from infra.template import Env, Stack

ADMIN_KEY = "test-admin-key-0123456789"


@pytest.fixture(scope="session")
def local_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emu.Emulator]:
    log = tmp_path_factory.mktemp("emulator") / "moto.log"
    server = emu.start_moto(emu.free_port(), log_path=log)
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", *emu.LOCAL_CREDENTIALS)}
    os.environ.update(server.environ())
    aws.reset_clients()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    aws.reset_clients()


@pytest.fixture(scope="session")
def stack(local_aws: emu.Emulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real template, bootstrapped in the test emulator, with its function environment applied."""
    stack = Stack(env=Env(queue_endpoint=local_aws.endpoint))
    bootstrap(stack, admin_key=ADMIN_KEY)
    env: dict[str, str] = {}
    for fn in stack.functions():
        env.update(fn.environment)
    env["ADMIN_API_KEY_PARAMETER"] = admin_key_parameter(stack)
    env["MODEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))
    env["HEARTBEAT_SECONDS"] = "0"
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    settings.cache_clear()
    yield stack
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    settings.cache_clear()

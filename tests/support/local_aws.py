"""Shared by the test suite and the benchmarks: environment handling for a bootstrapped local stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from commerce_ai import aws
from commerce_ai.config import clear_cached_settings
from infra.bootstrap import admin_key_parameter
from infra.template import Stack


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    """Set variables for the duration of the block; settings() and boto clients are re-read on both ends."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    clear_cached_settings()
    aws.reset_clients()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        clear_cached_settings()
        aws.reset_clients()


def function_environment(stack: Stack, cache_dir: Path, heartbeat_seconds: str) -> dict[str, str]:
    """The union of what the template gives its functions, for calling handlers in this process."""
    env: dict[str, str] = {}
    for fn in stack.functions():
        env.update(fn.environment)
    env["ADMIN_API_KEY_PARAMETER"] = admin_key_parameter(stack)
    env["MODEL_CACHE_DIR"] = str(cache_dir)
    env["HEARTBEAT_SECONDS"] = heartbeat_seconds
    env.pop("POWERTOOLS_SERVICE_NAME", None)  # per function; in-process callers share one
    return env

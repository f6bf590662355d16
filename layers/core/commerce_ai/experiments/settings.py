"""The experiments' own settings, read from the environment the way `commerce_ai.config` reads the
platform's (variable name, ConfigError when a function that needs one lacks it). Kept beside the code
that uses them, so adding experiments did not touch the shared config; `ENV_NAMES` lists the variables
(tests/unit/test_config_and_telemetry.py checks that the template sets no variable nothing reads)."""

from __future__ import annotations

import os

from commerce_ai.config import ConfigError

ENV_NAMES = {"experiments_table": "EXPERIMENTS_TABLE"}


def experiments_table() -> str:
    """The table of experiment definitions, per-user exposure state and per-arm counters."""
    name = ENV_NAMES["experiments_table"]
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"setting experiments_table ({name}) is not configured for this function")
    return value

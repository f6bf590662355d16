"""The experiments' own settings, read from the environment the way `commerce_ai.config` reads the
platform's (variable name, ConfigError when a function that needs one lacks it). Kept beside the code
that uses them, so adding experiments did not touch the shared config."""

from __future__ import annotations

import os

from commerce_ai.config import ConfigError

EXPERIMENTS_TABLE = "EXPERIMENTS_TABLE"


def experiments_table() -> str:
    """The table of experiment definitions, per-user exposure state and per-arm counters."""
    value = os.environ.get(EXPERIMENTS_TABLE, "").strip()
    if not value:
        raise ConfigError(f"setting experiments_table ({EXPERIMENTS_TABLE}) is not configured for this function")
    return value

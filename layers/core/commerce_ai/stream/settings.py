"""The stream's own settings, read from the environment variables template.yaml sets (README, "Behaviour
events"). Kept beside the stream's code, in the style of `commerce_ai.config`: a missing variable is a
ConfigError naming it, raised when a function first needs the value, never at import."""

from __future__ import annotations

import os

from commerce_ai.config import ConfigError

TOPIC_ARN = "BEHAVIOUR_EVENTS_TOPIC_ARN"
ARCHIVE_BUCKET = "BEHAVIOUR_EVENTS_BUCKET"
LEDGER_TABLE = "STREAM_LEDGER_TABLE"
INGEST_KEY_PARAMETER = "INGEST_API_KEY_PARAMETER"
# Read fresh on each use (no cache to clear); ENV_NAMES is how commerce_ai.config finds them.
ENV_NAMES = {
    "topic_arn": TOPIC_ARN,
    "archive_bucket": ARCHIVE_BUCKET,
    "ledger_table": LEDGER_TABLE,
    "ingest_key_parameter": INGEST_KEY_PARAMETER,
}
VARIABLES = tuple(ENV_NAMES.values())


def need(variable: str) -> str:
    """The value of `variable`, or a ConfigError naming it when this function was not given it."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ConfigError(f"environment variable {variable} is not configured for this function")
    return value


def topic_arn() -> str:
    return need(TOPIC_ARN)


def archive_bucket() -> str:
    return need(ARCHIVE_BUCKET)


def ledger_table() -> str:
    return need(LEDGER_TABLE)


def ingest_key_parameter() -> str:
    return need(INGEST_KEY_PARAMETER)

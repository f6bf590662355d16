"""commerce_ai.config and commerce_ai.telemetry: settings from the environment, correlation ids, wrapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from commerce_ai import health
from commerce_ai.config import ENV_NAMES, ConfigError, Settings, settings
from commerce_ai.stream import settings as stream_settings
from commerce_ai.telemetry import correlation_id_of, instrumented
from infra.runner.context import LambdaContext
from infra.template import Stack

# ------------------------------------------------------------------------------------------ config


def test_defaults_without_any_environment() -> None:
    config = settings()
    assert config == Settings(
        artifact_bucket=None,
        registry_table=None,
        health_table=None,
        pricing_table=None,
        pricing_catalog_table=None,
        reprice_queue_url=None,
        risk_state_table=None,
        risk_results_table=None,
        risk_outcomes_queue_url=None,
        admin_key_parameter=None,
        model_refresh_seconds=30.0,
        model_cache_dir="/tmp/commerce-ai/models",
        max_body_bytes=1_048_576,
        heartbeat_seconds=60.0,
    )


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIFACT_BUCKET", "b")
    monkeypatch.setenv("MODEL_REFRESH_SECONDS", "2.5")
    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("HEARTBEAT_SECONDS", " ")  # blank means default
    config = settings()
    assert (config.artifact_bucket, config.model_refresh_seconds, config.max_body_bytes, config.heartbeat_seconds) == (
        "b",
        2.5,
        1000,
        60.0,
    )


def test_settings_are_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    first = settings()
    monkeypatch.setenv("ARTIFACT_BUCKET", "later")
    assert settings() is first
    settings.cache_clear()
    assert settings().artifact_bucket == "later"


def test_a_malformed_number_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_REFRESH_SECONDS", "soon")
    with pytest.raises(ConfigError, match="MODEL_REFRESH_SECONDS='soon' is not a number"):
        settings()


def test_need_names_the_missing_variable() -> None:
    with pytest.raises(ConfigError, match=r"registry_table \(MODEL_REGISTRY_TABLE\) is not configured"):
        settings().need("registry_table")


def test_every_setting_has_an_environment_name() -> None:
    assert set(ENV_NAMES) == set(Settings.__dataclass_fields__)


def test_every_variable_the_template_sets_is_one_the_code_reads(stack: Stack) -> None:
    known = (
        set(ENV_NAMES.values())
        | set(stream_settings.VARIABLES)
        | {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
        }
    )
    for fn in stack.functions():
        assert set(fn.environment) <= known, (fn.logical_id, set(fn.environment) - known)


def test_the_template_values_parse_as_settings(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in stack.function("RegistryApiFunction").environment.items():
        monkeypatch.setenv(key, value)
    config = settings()
    assert config.max_body_bytes == 1_048_576 and config.heartbeat_seconds == 60.0
    assert config.model_refresh_seconds == 30.0


# ------------------------------------------------------------------------------------------ telemetry


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"headers": {"X-Correlation-Id": "abc"}, "requestContext": {"requestId": "r"}}, "abc"),
        ({"headers": {"x-correlation-id": "x" * 500}}, "x" * 128),
        ({"headers": {"x-correlation-id": ""}, "requestContext": {"requestId": "req-1"}}, "req-1"),
        ({"headers": None, "requestContext": {"requestId": "req-1"}}, "req-1"),
        ({"Records": [{"messageId": "m-1"}, {"messageId": "m-2"}]}, "m-1"),
        ({"Records": [{"responseElements": {"x-amz-request-id": "s3-req"}}]}, "s3-req"),
        ({"Records": ["not a dict"], "id": "e"}, "e"),
        ({"id": "sched-1", "source": "aws.events"}, "sched-1"),
        ({}, None),
    ],
)
def test_correlation_id_of(event: dict[str, Any], expected: str | None) -> None:
    assert correlation_id_of(event) == expected


def test_instrumented_passes_results_through_and_counts_record_failures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @instrumented
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}

    result = handler({"Records": [{"messageId": "m-1"}]}, LambdaContext("fn"))
    assert result == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert metrics and metrics[-1]["RecordFailures"] == [2.0] and "Errors" not in metrics[-1]
    assert health.reporter().invocations == 1 and health.reporter().last_ok is True


def test_instrumented_records_and_reraises_failures() -> None:
    @instrumented
    def handler(event: dict[str, Any], context: Any) -> None:
        raise TimeoutError("slow")

    with pytest.raises(TimeoutError):
        handler({"id": "e"}, LambdaContext("fn"))
    reporter = health.reporter()
    assert (reporter.errors, reporter.last_error_type) == (1, "TimeoutError")


def test_every_invocation_emits_one_metrics_document(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    from commerce_ai.telemetry import record_invocation

    for _ in range(40):  # more than EMF's 29-dimension limit: dimensions must not pile up
        record_invocation(time.perf_counter(), ok=True)
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert len(documents) == 40
    assert documents[-1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["function"]]
    assert documents[-1]["Invocations"] == [1.0] and documents[-1]["function"] == "local"

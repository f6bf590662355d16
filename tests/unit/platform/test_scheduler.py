"""infra.runner.scheduler: EventBridge `rate()` expressions, scheduled events and the firing loop."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.runner.scheduler import (
    AsyncInvokeConfig,
    ScheduleError,
    invoke_asynchronously,
    rate_seconds,
    run_schedule,
    scheduled_event,
)

UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("rate(12 hours)", 43200),
        ("rate(1 day)", 86400),
        ("rate(7 days)", 604800),
        ("  rate(2 hours)  ", 7200),
    ],
)
def test_valid_rates(expression: str, seconds: int) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(1 minutes)", "singular unit for 1"),
        ("rate(1 hours)", "singular unit for 1"),
        ("rate(2 minute)", "singular unit for 1 and plural otherwise"),
        ("rate(10 day)", "plural otherwise"),
        ("rate(0 minutes)", "must be positive"),
        ("rate(0 minute)", "must be positive"),
        ("rate(-1 minutes)", "not a rate"),
        ("rate(1.5 hours)", "not a rate"),
        ("rate(5 seconds)", "not a rate"),
        ("rate(5 weeks)", "not a rate"),
        ("rate(5  minutes)", "not a rate"),
        ("rate(5minutes)", "not a rate"),
        ("rate(5 Minutes)", "not a rate"),
        ("rate()", "not a rate"),
        ("cron(0 12 * * ? *)", "not a rate"),
        ("", "not a rate"),
        ("every 5 minutes", "not a rate"),
    ],
)
def test_invalid_rates(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        rate_seconds(expression)


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(UNIT_SECONDS)))
def test_correctly_pluralised_rates_are_value_times_unit(value: int, unit: str) -> None:
    word = unit if value == 1 else unit + "s"
    assert rate_seconds(f"rate({value} {word})") == value * UNIT_SECONDS[unit]


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(sorted(UNIT_SECONDS)))
def test_wrongly_pluralised_rates_are_rejected(value: int, unit: str) -> None:
    word = unit + "s" if value == 1 else unit
    with pytest.raises(ScheduleError):
        rate_seconds(f"rate({value} {word})")


def test_scheduled_event_has_the_eventbridge_shape() -> None:
    event = scheduled_event("arn:aws:events:eu-west-1:111:rule/r", region="eu-west-1", account="111")
    assert event["source"] == "aws.events"
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == ["arn:aws:events:eu-west-1:111:rule/r"]
    assert (event["region"], event["account"], event["detail"], event["version"]) == ("eu-west-1", "111", {}, "0")
    assert event["time"].endswith("Z") and len(event["time"]) == len("2026-01-01T00:00:00Z")
    assert event["id"] != scheduled_event("r")["id"]


class CountdownStop:
    """A stand-in for threading.Event whose wait() reports 'not stopped' a fixed number of times."""

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if self.ticks == 0:
            return True
        self.ticks -= 1
        return False


def test_run_schedule_fires_once_per_interval_until_stopped() -> None:
    fired: list[str] = []
    stop = CountdownStop(ticks=3)
    run_schedule("Fn", 7.5, fired.append, stop)  # type: ignore[arg-type]
    assert fired == ["Fn", "Fn", "Fn"]
    assert stop.waits == [7.5] * 4  # waits first: the first firing is one interval after start


def test_run_schedule_keeps_its_beat_when_an_invocation_fails() -> None:
    calls: list[str] = []

    def fire(function: str) -> None:
        calls.append(function)
        raise RuntimeError("handler failed")

    run_schedule("Fn", 1, fire, CountdownStop(ticks=2))  # type: ignore[arg-type]
    assert calls == ["Fn", "Fn"]


def test_an_asynchronous_invocation_is_retried_then_sent_to_its_on_failure_queue() -> None:
    attempts: list[dict[str, str]] = []
    sent: list[tuple[str, dict[str, object]]] = []

    def failing(event: dict[str, str]) -> None:
        attempts.append(event)
        raise RuntimeError("boom")

    config = AsyncInvokeConfig(retries=1, max_age_seconds=60, on_failure_queue="arn:aws:sqs:us-east-1:1:failures")
    with pytest.raises(RuntimeError, match="boom"):
        invoke_asynchronously(failing, {"id": "e"}, config, "arn:aws:lambda:us-east-1:1:function:f", _append(sent))
    assert attempts == [{"id": "e"}, {"id": "e"}]
    ((queue, record),) = sent
    assert queue == "arn:aws:sqs:us-east-1:1:failures"
    assert record["requestPayload"] == {"id": "e"}
    assert record["requestContext"]["approximateInvokeCount"] == 2  # type: ignore[index]
    assert record["responsePayload"] == {"errorType": "RuntimeError", "errorMessage": "boom"}


def test_a_successful_retry_sends_nothing_and_defaults_are_lambdas() -> None:
    outcomes = iter([RuntimeError("once"), None])
    sent: list[tuple[str, dict[str, object]]] = []

    def flaky(event: dict[str, str]) -> str:
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return "ok"

    config = AsyncInvokeConfig.of({}, lambda v: v)
    assert (config.retries, config.max_age_seconds, config.on_failure_queue) == (2, 21600, None)
    assert invoke_asynchronously(flaky, {}, config, "arn", _append(sent)) == "ok"
    assert sent == []


def _append(sink: list[tuple[str, dict[str, object]]]) -> Callable[[str, dict[str, object]], None]:
    return lambda queue, record: sink.append((queue, record))

"""commerce_ai.health: throttled heartbeats and the derived status that GET /health reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from commerce_ai import health
from commerce_ai.health import HealthReporter, read_all
from tests.unit.fakes import FakeAws, FakeClock, client_error

TABLE = "health-table"
INTERVAL = 60.0


@pytest.fixture
def reporter(monkeypatch: pytest.MonkeyPatch, clock: FakeClock, fake_aws: FakeAws) -> HealthReporter:
    monkeypatch.setattr(health, "time", SimpleNamespace(monotonic=clock))
    return HealthReporter(table=TABLE, function="fn-a", interval=INTERVAL)


WRITES: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def record_writes(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> None:
    """After every heartbeat write, a copy of the item as the table then holds it."""
    WRITES.clear()
    dynamodb = fake_aws.dynamodb
    update = dynamodb.update_item

    def recording(**kwargs: Any) -> dict[str, Any]:
        result = update(**kwargs)
        WRITES.append(dict(dynamodb.tables[kwargs["TableName"]][(kwargs["Key"]["function"]["S"],)]))
        return result

    monkeypatch.setattr(dynamodb, "update_item", recording)


def writes(fake_aws: FakeAws) -> list[dict[str, Any]]:
    return list(WRITES)


def test_the_first_invocation_writes(reporter: HealthReporter, fake_aws: FakeAws) -> None:
    reporter.invocation(ok=True)
    (item,) = writes(fake_aws)
    assert item["function"] == {"S": "fn-a"}
    assert item["invocations"] == {"N": "1"} and item["errors"] == {"N": "0"}
    assert item["last_ok"] == {"BOOL": True}
    assert "last_ok_at" in item and "last_error_at" not in item and "last_error_type" not in item
    assert datetime.fromisoformat(item["updated_at"]["S"]).tzinfo is not None
    assert item["cold_start_at"]["S"] == reporter.cold_start_at


def test_same_outcome_within_the_interval_does_not_write(
    reporter: HealthReporter, fake_aws: FakeAws, clock: FakeClock
) -> None:
    reporter.invocation(ok=True)
    for _ in range(10):
        clock.advance(INTERVAL / 20)
        reporter.invocation(ok=True)
    assert len(writes(fake_aws)) == 1
    assert reporter.invocations == 11


def test_a_write_is_due_once_the_interval_has_passed(
    reporter: HealthReporter, fake_aws: FakeAws, clock: FakeClock
) -> None:
    reporter.invocation(ok=True)
    clock.advance(INTERVAL - 0.001)
    reporter.invocation(ok=True)
    clock.advance(0.001)
    reporter.invocation(ok=True)
    assert [w["invocations"]["N"] for w in writes(fake_aws)] == ["1", "3"]


def test_a_flip_between_ok_and_failing_writes_at_once(
    reporter: HealthReporter, fake_aws: FakeAws, clock: FakeClock
) -> None:
    reporter.invocation(ok=True)
    clock.advance(1)
    reporter.invocation(ok=False, error=KeyError("customer 42"))  # ok -> failing
    clock.advance(1)
    reporter.invocation(ok=False, error=ValueError("x"))  # still failing: throttled
    clock.advance(1)
    reporter.invocation(ok=True)  # failing -> ok
    items = writes(fake_aws)
    assert [i["last_ok"]["BOOL"] for i in items] == [True, False, True]
    failing = items[1]
    assert failing["errors"] == {"N": "1"}
    assert failing["last_error_type"] == {"S": "KeyError"}
    assert "customer 42" not in str(failing)  # types only, never messages
    assert items[2]["errors"] == {"N": "2"} and items[2]["last_error_type"] == {"S": "ValueError"}


def test_a_failure_without_an_exception_is_recorded_as_error(reporter: HealthReporter, fake_aws: FakeAws) -> None:
    reporter.invocation(ok=False)
    assert writes(fake_aws)[0]["last_error_type"] == {"S": "Error"}


def test_a_first_failure_writes(reporter: HealthReporter, fake_aws: FakeAws) -> None:
    reporter.invocation(ok=False, error=RuntimeError())
    assert writes(fake_aws)[0]["last_ok"] == {"BOOL": False}


def test_without_a_table_nothing_is_written(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> None:
    quiet = HealthReporter(table=None, function="fn", interval=0)
    quiet.invocation(ok=True)
    quiet.invocation(ok=False, error=ValueError())
    assert writes(fake_aws) == []
    assert (quiet.invocations, quiet.errors) == (2, 1)


def test_a_failed_write_never_breaks_the_function(
    reporter: HealthReporter, fake_aws: FakeAws, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    fake_aws.dynamodb.fail_with = client_error("AccessDeniedException", "UpdateItem")
    reporter.invocation(ok=True)  # must not raise
    # the failure is logged through the standard logger (importing telemetry here would be a cycle)
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("commerce_ai.health", "heartbeat write failed")]
    fake_aws.dynamodb.fail_with = None
    clock.advance(1)
    reporter.invocation(ok=True)
    assert writes(fake_aws) == []  # the failed write still counts as the last write for throttling
    clock.advance(INTERVAL)
    reporter.invocation(ok=True)
    (item,) = writes(fake_aws)
    assert item["invocations"] == {"N": "3"}  # the counts of the failed write are added later, not lost


def test_the_module_reporter_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_TABLE", "h")
    monkeypatch.setenv("HEARTBEAT_SECONDS", "5")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "commerce-ai-Fn")
    made = health.reporter()
    assert (made.table, made.function, made.interval) == ("h", "commerce-ai-Fn", 5.0)
    assert health.reporter() is made


def test_the_default_reporter_writes_nowhere() -> None:
    made = health.reporter()
    assert (made.table, made.function, made.interval) == (None, "local", 60.0)


# ------------------------------------------------------------------------------------ read_all


def heartbeat(function: str, age: timedelta, ok: bool = True, **extra: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "function": {"S": function},
        "updated_at": {"S": (datetime.now(UTC) - age).isoformat(timespec="seconds")},
        "cold_start_at": {"S": "2026-01-01T00:00:00+00:00"},
        "invocations": {"N": "10"},
        "errors": {"N": "0" if ok else "3"},
        "last_ok": {"BOOL": ok},
    }
    item.update({k: {"S": v} for k, v in extra.items()})
    return item


def test_read_all_derives_status_and_sorts_by_function(fake_aws: FakeAws) -> None:
    for item in (
        heartbeat("d-stale", timedelta(days=2)),
        heartbeat("a-ok", timedelta(minutes=1), last_ok_at="2026-01-01T00:00:01+00:00"),
        heartbeat("c-failing-and-old", timedelta(days=3), ok=False, last_error_type="KeyError"),
        heartbeat("b-failing", timedelta(seconds=5), ok=False, last_error_at="2026-01-01T00:00:02+00:00"),
        heartbeat("e-ok", timedelta(hours=23)),
    ):
        fake_aws.dynamodb.put_item(TableName=TABLE, Item=item)
    report = read_all(TABLE)
    assert [(r["function"], r["status"]) for r in report] == [
        ("a-ok", "ok"),
        ("b-failing", "failing"),
        ("c-failing-and-old", "failing"),  # failing wins over stale
        ("d-stale", "stale"),
        ("e-ok", "ok"),
    ]
    first = report[0]
    assert (first["invocations"], first["errors"], first["last_ok_at"]) == (10, 0, "2026-01-01T00:00:01+00:00")
    assert (first["last_error_at"], first["last_error_type"]) == (None, None)
    assert report[2]["last_error_type"] == "KeyError" and report[2]["errors"] == 3


def test_stale_after_is_configurable(fake_aws: FakeAws) -> None:
    fake_aws.dynamodb.put_item(TableName=TABLE, Item=heartbeat("f", timedelta(minutes=10)))
    assert read_all(TABLE, stale_after_seconds=300)[0]["status"] == "stale"
    assert read_all(TABLE, stale_after_seconds=3600)[0]["status"] == "ok"


def test_read_all_of_an_empty_table(fake_aws: FakeAws) -> None:
    assert read_all(TABLE) == []


def test_what_the_reporter_writes_is_what_read_all_reads(reporter: HealthReporter, fake_aws: FakeAws) -> None:
    reporter.invocation(ok=False, error=TimeoutError())
    (entry,) = read_all(TABLE)
    assert (entry["function"], entry["status"], entry["errors"], entry["last_error_type"]) == (
        "fn-a",
        "failing",
        1,
        "TimeoutError",
    )


def test_health_imports_without_telemetry() -> None:
    # telemetry reports to health; health logging through telemetry made the two import each other.
    import subprocess
    import sys

    probe = "import sys, commerce_ai.health; print('commerce_ai.telemetry' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_two_warm_containers_of_one_function_add_up(
    monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws, clock: FakeClock
) -> None:
    monkeypatch.setattr(health, "time", SimpleNamespace(monotonic=clock))
    first = HealthReporter(table=TABLE, function="fn-a", interval=INTERVAL)
    second = HealthReporter(table=TABLE, function="fn-a", interval=INTERVAL)
    for _ in range(3):
        first.invocation(ok=True)
    for _ in range(5):
        second.invocation(ok=False, error=ValueError())
    clock.advance(INTERVAL)
    first.invocation(ok=True)
    second.invocation(ok=True)
    (entry,) = read_all(TABLE)
    assert (entry["invocations"], entry["errors"]) == (3 + 1 + 5 + 1, 5)
    assert entry["status"] == "ok"  # the last outcome written, whichever container wrote it


# ----------------------------------------------------------------------------------- start-up


def test_no_startup_item_means_no_startup_in_progress(fake_aws: FakeAws) -> None:
    assert health.startup_waiting_for(TABLE) is None


def test_a_startup_says_what_it_waits_for_until_it_ends(fake_aws: FakeAws, reporter: HealthReporter) -> None:
    health.set_startup(TABLE, ["model pricing-demand", "seeding"])
    assert health.startup_waiting_for(TABLE) == ["model pricing-demand", "seeding"]
    reporter.invocation(ok=True)
    assert [f["function"] for f in read_all(TABLE)] == ["fn-a"]  # the start-up item is not a function
    health.set_startup(TABLE, ["seeding"])
    assert health.startup_waiting_for(TABLE) == ["seeding"]
    health.set_startup(TABLE, [])
    assert health.startup_waiting_for(TABLE) is None

"""Tick statuses (`commerce_ai.pricing.tick_log`) over in-memory DynamoDB, and the service steps that write
them: every writing tick is recorded running, then done or failed, and a whole-catalog admin reprice is
queued; a running status past the function's timeout reads as stopped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai.errors import Conflict, InvalidInput, NotFound
from commerce_ai.pricing import service
from commerce_ai.pricing.tick_log import REQUEST_ATTEMPTS, RETENTION, RUN_TIMEOUT, TickLog, TickStatus
from commerce_ai.pricing.ticks import TickReport, tick_stamp
from tests.unit.fakes import FakeAws, FakeDynamoDB
from tests.unit.pricing.conftest import PRICING_TABLE

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/reprice-requests"
CHUNKS = "https://sqs.us-east-1.amazonaws.com/123456789012/reprice-chunks"


def status(tick: datetime, state: str = "done", **extra: Any) -> TickStatus:
    return TickStatus.model_validate(
        {"tick": tick_stamp(tick), "state": state, "source": "schedule", "updated_at": tick, **extra}
    )


@pytest.fixture
def log() -> TickLog:
    return TickLog(PRICING_TABLE, FakeDynamoDB(key_schemas={PRICING_TABLE: ("sku", "item")}))


def test_statuses_read_back_newest_first_in_pages(log: TickLog) -> None:
    moments = [NOW + timedelta(minutes=15 * i) for i in range(7)]
    for moment in moments:
        log.record(status(moment, summary={"applied": 3}))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = log.recent(3, cursor)
        seen.extend(s.tick for s in page)
        if cursor is None:
            break
    assert seen == [tick_stamp(m) for m in reversed(moments)]
    assert log.get(tick_stamp(moments[2])).summary == {"applied": 3}


def test_a_status_expires_after_the_retention(log: TickLog) -> None:
    log.record(status(NOW))
    item = next(iter(log.ddb.tables[PRICING_TABLE].values()))
    assert int(item["expires_at"]["N"]) == int((NOW + RETENTION).timestamp())
    assert item["sku"] == {"S": "#ticks"}, "a partition no SKU can have"


def test_a_new_status_does_not_take_a_recorded_name(log: TickLog) -> None:
    assert log.record_new(status(NOW, "queued")) is True
    assert log.record_new(status(NOW, "queued")) is False
    log.record(status(NOW, "done"))  # the worker's outcome replaces the queued status
    assert log.get(tick_stamp(NOW)).state == "done"


def test_unknown_ticks_bad_limits_and_foreign_cursors_are_refused(log: TickLog) -> None:
    with pytest.raises(NotFound):
        log.get(tick_stamp(NOW))
    for limit in (0, 101):
        with pytest.raises(InvalidInput, match="limit"):
            log.recent(limit, None)
    history_cursor = "eyJza3UiOiB7IlMiOiAib2otMi0xIn0sICJpdGVtIjogeyJTIjogImRlY2lzaW9uI3QifX0="  # a SKU's
    with pytest.raises(InvalidInput, match="cursor"):
        log.recent(5, history_cursor)
    with pytest.raises(ValueError, match="tick"):  # a name to the second is not a tick name any more
        TickStatus.model_validate({"tick": "2026-11-28T12:00:00Z", "state": "done", "source": "schedule"})
    with pytest.raises(ValueError, match="tick"):  # the right shape, but no such moment
        TickStatus.model_validate({"tick": "2026-13-45T99:99:99.999Z", "state": "done", "source": "schedule"})


# ------------------------------------------------------------------------------- the service steps


@pytest.fixture
def configured(fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    fake_aws.dynamodb = FakeDynamoDB(key_schemas={PRICING_TABLE: ("sku", "item")})
    monkeypatch.setenv("PRICING_TABLE", PRICING_TABLE)
    monkeypatch.setenv("REPRICE_REQUESTS_QUEUE_URL", QUEUE)
    monkeypatch.setenv("PRICING_DECISION_LOG_BUCKET", "decision-log")
    monkeypatch.setenv("PRICE_CHANGES_TOPIC_ARN", "arn:aws:sns:us-east-1:000000000000:price-changes")
    return fake_aws


def test_a_whole_catalog_request_is_recorded_queued_then_sent(configured: FakeAws) -> None:
    queued = service.request_reprice(NOW)
    assert (queued.tick, queued.state, queued.source) == (tick_stamp(NOW), "queued", "admin")
    sent = [(m["QueueUrl"], json.loads(m["MessageBody"])) for m in configured.sqs.sent]
    assert sent == [(QUEUE, {"tick": queued.tick})]
    assert service.tick_log().get(queued.tick).state == "queued"
    with pytest.raises(Conflict):
        service.request_reprice(NOW)  # the same moment again: refused, nothing sent
    assert len(configured.sqs.sent) == 1


def test_a_writing_tick_is_recorded_done_or_failed_and_a_dry_run_not_at_all(
    configured: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "demand_model", lambda: None)
    monkeypatch.setattr(service, "catalog", lambda: None)
    outcomes: list[Any] = [TickReport("t", False, "v1", "p1"), RuntimeError("the table is gone")]

    def run_tick(*_: Any, **options: Any) -> TickReport:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return TickReport(outcome.tick, options["dry_run"], "v1", "p1")

    monkeypatch.setattr(service, "run_tick", run_tick)
    done_at, failed_at = tick_stamp(NOW), tick_stamp(NOW + timedelta(minutes=15))
    service.reprice_now(NOW, done_at, source="schedule")
    with pytest.raises(RuntimeError):
        service.reprice_now(NOW, failed_at)
    done, failed = service.tick_log().get(done_at), service.tick_log().get(failed_at)
    assert (done.state, done.source, done.summary and done.summary["model_version"]) == ("done", "schedule", "v1")
    assert (failed.state, failed.source, failed.error) == ("failed", "admin", "RuntimeError: the table is gone")

    outcomes.append(TickReport("t", True, "v1", "p1"))
    service.reprice_now(NOW, tick_stamp(NOW + timedelta(minutes=30)), dry_run=True)
    assert len(service.tick_log().recent(10, None)[0]) == 2, "a dry run records nothing"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        '{"tick": "yesterday"}',
        '{"tick": "2026-02-30T12:00:00.000Z"}',  # no such day
        '{"tick": "2026-11-28T12:00:00.000Z", "x": 1}',
    ],
)
def test_a_reprice_request_that_does_not_parse_fails_its_record(configured: FakeAws, body: str) -> None:
    with pytest.raises(InvalidInput, match="reprice request"):
        service.run_requested(body, NOW)


def test_a_request_that_could_not_be_sent_is_recorded_failed(
    configured: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(**_: Any) -> Any:
        raise ConnectionError("no route")

    monkeypatch.setattr(configured.sqs, "send_message", unreachable)
    with pytest.raises(ConnectionError):
        service.request_reprice(NOW)
    recorded = service.tick_log().get(tick_stamp(NOW))
    assert (recorded.state, recorded.error) == ("failed", "not queued: ConnectionError")


def test_a_redelivered_request_of_a_done_tick_runs_nothing(
    configured: FakeAws, monkeypatch: pytest.MonkeyPatch
) -> None:
    tick = tick_stamp(NOW)
    service.tick_log().record(status(NOW, summary={"tick": tick, "applied": 7}))

    def must_not_run(*_: Any, **__: Any) -> Any:
        raise AssertionError("the tick ran again")

    monkeypatch.setattr(service, "plan_tick", must_not_run)
    assert service.run_requested(json.dumps({"tick": tick}), NOW + timedelta(hours=1)) is None
    assert service.tick_log().get(tick).summary == {"tick": tick, "applied": 7}, "its status is left alone"


def test_a_queued_request_is_planned_recorded_running_then_with_its_chunks(
    configured: FakeAws, monkeypatch: pytest.MonkeyPatch, demand_model: Any
) -> None:
    monkeypatch.setenv("REPRICE_CHUNKS_QUEUE_URL", CHUNKS)
    monkeypatch.setattr(service, "demand_model", lambda: demand_model)
    monkeypatch.setattr(service, "catalog", lambda: NamedCatalog([f"sku-{i}" for i in range(1200)]))
    tick = tick_stamp(NOW)
    seen: list[TickStatus] = []
    send = service.send_chunks

    def sending(sqs: Any, url: str, chunks: list[Any]) -> int:
        seen.append(service.tick_log().get(tick))
        return send(sqs, url, chunks)

    monkeypatch.setattr(service, "send_chunks", sending)
    plan = service.run_requested(json.dumps({"tick": tick}), NOW, attempt=2)
    assert plan is not None and (plan["chunks"], plan["skus"]) == (3, 1200)
    assert [(s.state, s.source, s.attempt, s.chunks) for s in seen] == [("running", "admin", 2, None)]
    planned = service.tick_log().get(tick)
    assert (planned.state, planned.chunks, planned.chunks_done, planned.attempt) == ("running", 3, 0, 2)
    bodies = [json.loads(m["MessageBody"]) for m in configured.sqs.sent if m["QueueUrl"] == CHUNKS]
    assert [b["chunk"] for b in bodies] == [0, 1, 2]
    assert sorted(s for b in bodies for s in b["skus"]) == sorted(f"sku-{i}" for i in range(1200))
    assert service.run_requested(json.dumps({"tick": tick}), NOW, attempt=3) is None, "planned: not again"


def test_a_chunked_tick_counts_each_chunk_once_and_is_done_when_all_are_counted(log: TickLog) -> None:
    tick = tick_stamp(NOW)
    log.record(status(NOW, "running", chunks=3, model_version="v1"))
    counts = {"skus": 10, "applied": 4, "kept": 6}
    assert log.finish_chunk(tick, 0, counts, False, NOW) is True
    assert log.finish_chunk(tick, 0, counts, False, NOW) is False, "a redelivered chunk is counted once"
    assert log.fail_chunk(tick, 0, NOW) is False, "a chunk done is never counted failed"
    assert log.fail_chunk(tick, 1, NOW) is True
    middle = log.get(tick)
    assert (middle.state, middle.chunks_done, middle.chunks_failed, middle.summary) == ("running", 1, 1, None)
    assert log.chunk_state(tick, 1) == "failed" and log.chunk_state(tick, 2) is None
    assert log.finish_chunk(tick, 2, counts, False, NOW) is True
    failed = log.get(tick)
    assert (failed.state, failed.chunks_done, failed.chunks_failed) == ("failed", 2, 1)
    assert failed.error and "RepriceChunksDLQ" in failed.error and failed.summary and failed.summary["applied"] == 8
    # The failed chunk redriven from the DLQ: it moves from failed to done, and the tick is done.
    assert log.finish_chunk(tick, 1, counts, True, NOW) is True
    assert log.finish_chunk(tick, 1, counts, True, NOW) is False, "a redriven chunk redelivered is counted once"
    done = log.get(tick)
    assert (done.state, done.chunks_done, done.chunks_failed, done.error) == ("done", 3, 0, None)
    assert done.summary is not None and (done.summary["skus"], done.summary["applied"]) == (30, 12)
    assert done.summary["model_version"] == "v1"
    # Each count was one conditional UpdateItem of the status (no transaction, no marker item), and the
    # status holds the chunks' numbers in its sets.
    calls = [operation for operation, _ in log.ddb.log]
    assert "TransactWriteItems" not in calls and "PutItem" not in calls
    assert calls.count("UpdateItem") == 1 + 7  # the status, then 7 counts (3 of them refused)
    item = log.ddb.tables[PRICING_TABLE][("#ticks", f"tick#{tick}")]
    assert sorted(item["done_chunks"]["NS"], key=int) == ["0", "1", "2"] and "failed_chunks" not in item
    # A retried plan rewrites the status and leaves the counts alone.
    log.record(status(NOW, "running", chunks=3, model_version="v1"))
    assert log.get(tick).state == "done"
    assert [s.state for s in log.recent(5, None)[0]] == ["done"]


class NamedCatalog:
    def __init__(self, names: list[str]) -> None:
        self._names = names

    def names(self) -> list[str]:
        return self._names


@pytest.mark.parametrize(
    ("source", "attempt", "after", "state", "says"),
    [
        ("admin", 1, RUN_TIMEOUT, "running", None),  # still within the function's timeout
        ("admin", 1, RUN_TIMEOUT + timedelta(seconds=1), "queued", "attempt 2 of 3"),
        ("admin", 2, RUN_TIMEOUT + timedelta(hours=1), "queued", "attempt 3 of 3"),
        ("admin", REQUEST_ATTEMPTS, RUN_TIMEOUT + timedelta(seconds=1), "failed", "no attempt is left"),
        ("schedule", None, RUN_TIMEOUT + timedelta(seconds=1), "failed", "a scheduled tick is not retried"),
    ],
)
def test_a_running_status_past_the_functions_timeout_is_read_as_stopped(
    source: str, attempt: int | None, after: timedelta, state: str, says: str | None
) -> None:
    running = status(NOW, "running", source=source, attempt=attempt)
    seen = running.as_of(NOW + after)
    assert seen.state == state
    if says is None:
        assert seen is running
    else:
        assert seen.error is not None and "stopped without an outcome" in seen.error and says in seen.error


@pytest.mark.parametrize("state", ["queued", "done", "failed"])
def test_only_a_running_status_goes_stale(state: str) -> None:
    recorded = status(NOW, state)
    assert recorded.as_of(NOW + timedelta(days=30)) is recorded


def test_a_whole_catalog_request_waits_for_the_pending_one(configured: FakeAws) -> None:
    first = service.request_reprice(NOW)
    with pytest.raises(Conflict, match=f"already queued \\(tick {first.tick}"):
        service.request_reprice(NOW + timedelta(milliseconds=300))
    # running from the queue still counts; a subset reprice running (no attempt) does not
    service.tick_log().record(first.model_copy(update={"state": "running", "attempt": 1}))
    subset = status(NOW + timedelta(seconds=1), "running", source="admin")
    service.tick_log().record(subset)
    with pytest.raises(Conflict, match="already running"):
        service.request_reprice(NOW + timedelta(seconds=2))
    service.tick_log().record(first.model_copy(update={"state": "done", "summary": {"applied": 1}}))
    assert service.request_reprice(NOW + timedelta(seconds=3)).state == "queued"
    assert len(configured.sqs.sent) == 2

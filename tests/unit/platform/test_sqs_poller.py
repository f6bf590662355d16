"""infra.runner.sqs_poller: Lambda's SQS event-source mapping semantics, against an in-memory SQS."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.runner.invoker import InvocationError
from infra.runner.sqs_poller import QueueSource, failed_ids, s3_event_from_messages, sqs_event
from tests.unit.fakes import FakeAws, sqs_message

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:q"
QUEUE_URL = "http://sqs.local/123456789012/q"

# ----------------------------------------------------------------------------------- failed_ids


@pytest.mark.parametrize(
    ("result", "kept"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}, {"a", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "b"}]}, {"b"}),
        # malformed reports fail the whole batch, as on AWS
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b", "c"}),
        ({"batchItemFailures": [{"id": "a"}]}, {"a", "b", "c"}),
        ({"batchItemFailures": ["a"]}, {"a", "b", "c"}),
        ({"batchItemFailures": "a"}, {"a", "b", "c"}),
        ({"batchItemFailures": {"itemIdentifier": "a"}}, {"a", "b", "c"}),
        ([{"itemIdentifier": "a"}], {"a", "b", "c"}),
        ("ok", {"a", "b", "c"}),
    ],
)
def test_failed_ids(result: Any, kept: set[str]) -> None:
    assert failed_ids(result, {"a", "b", "c"}) == kept


def test_failed_ids_returns_a_fresh_set() -> None:
    batch = {"a", "b"}
    kept = failed_ids("garbage", batch)
    kept.add("x")
    assert batch == {"a", "b"}


ids = st.text(alphabet="abcdef0123456789-", min_size=1, max_size=8)


@given(st.sets(ids, min_size=1, max_size=10), st.data())
def test_a_well_formed_report_keeps_exactly_the_reported_ids(batch: set[str], data: st.DataObject) -> None:
    reported = data.draw(st.lists(st.sampled_from(sorted(batch)), max_size=12))
    result = {"batchItemFailures": [{"itemIdentifier": i} for i in reported]}
    assert failed_ids(result, batch) == set(reported)


@given(st.sets(ids, min_size=1, max_size=10), st.lists(ids, max_size=5), ids)
def test_one_unknown_id_fails_the_whole_batch(batch: set[str], reported: list[str], stranger: str) -> None:
    stranger = stranger + "-not-in-batch"
    result = {"batchItemFailures": [{"itemIdentifier": i} for i in [*reported, stranger]]}
    assert failed_ids(result, batch) == batch


failure_entries = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=3),
    st.lists(st.text(max_size=2), max_size=2),
    st.dictionaries(
        st.sampled_from(["itemIdentifier", "other"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=3)),
        max_size=2,
    ),
)


@given(st.sets(ids, min_size=1, max_size=6), st.one_of(st.none(), st.integers(), st.text(), st.lists(failure_entries)))
def test_any_report_keeps_a_subset_of_the_batch(batch: set[str], failures: Any) -> None:
    assert failed_ids({"batchItemFailures": failures}, batch) <= batch


@pytest.mark.parametrize("identifier", [["a"], {"id": "a"}])
def test_an_unhashable_identifier_fails_the_whole_batch(identifier: Any) -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": identifier}]}, {"a", "b"}) == {"a", "b"}


# ----------------------------------------------------------------------------------- events


def test_sqs_event_has_lambdas_record_shape() -> None:
    message = {
        **sqs_message("m-1", body='{"x": 1}'),
        "MessageAttributes": {
            "trace": {"StringValue": "abc", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00", "DataType": "Binary"},
        },
    }
    event = sqs_event([message, sqs_message("m-2")], QUEUE_ARN, "eu-west-1")
    first, second = event["Records"]
    assert first == {
        "messageId": "m-1",
        "receiptHandle": "rh-m-1",
        "body": '{"x": 1}',
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {
            "trace": {
                "stringValue": "abc",
                "binaryValue": None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            },
            "blob": {
                "stringValue": None,
                "binaryValue": b"\x00",
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "Binary",
            },
        },
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "eu-west-1",
    }
    assert second["messageId"] == "m-2" and second["messageAttributes"] == {}


def test_sqs_event_is_what_powertools_parses() -> None:
    from aws_lambda_powertools.utilities.data_classes import SQSEvent

    parsed = SQSEvent(sqs_event([sqs_message("m-1", "hello")], QUEUE_ARN, "us-east-1"))
    (record,) = list(parsed.records)
    assert (record.message_id, record.body, record.event_source_arn) == ("m-1", "hello", QUEUE_ARN)


def test_s3_event_from_messages_unwraps_notifications_and_skips_test_events() -> None:
    record = {"eventName": "ObjectCreated:Put", "s3": {"object": {"key": "k"}}}
    messages = [
        sqs_message("1", json.dumps({"Records": [record, record]})),
        sqs_message("2", json.dumps({"Event": "s3:TestEvent"})),
        sqs_message("3", json.dumps({"Records": [record]})),
    ]
    assert s3_event_from_messages(messages, QUEUE_ARN, "us-east-1") == {"Records": [record] * 3}


# ----------------------------------------------------------------------------------- QueueSource


def source(**kwargs: Any) -> QueueSource:
    return QueueSource(function="Consumer", queue_url=QUEUE_URL, queue_arn=QUEUE_ARN, **kwargs)


class Invoke:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.result, self.error = result, error
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        self.events.append((function, event))
        if self.error:
            raise self.error
        return self.result


def batch(n: int) -> list[dict[str, Any]]:
    return [sqs_message(f"m{i}") for i in range(n)]


def test_partial_failures_stay_and_successes_are_deleted(fake_aws: FakeAws) -> None:
    # Given a batch of three where the function reports m1 as failed,
    messages = batch(3)
    invoke = Invoke({"batchItemFailures": [{"itemIdentifier": "m1"}]})
    src = source(report_failures=True)
    # when the source processes it,
    kept = src.process(messages, invoke)
    # then m1 is kept for retry, the others are deleted, and one event went to the function.
    assert kept == {"m1"}
    assert sorted(fake_aws.sqs.deleted_handles) == ["rh-m0", "rh-m2"]
    assert [f for f, _ in invoke.events] == ["Consumer"]
    assert [r["messageId"] for r in invoke.events[0][1]["Records"]] == ["m0", "m1", "m2"]
    assert src.stats == {"batches": 1, "records": 3, "failed": 1}


def test_without_report_batch_item_failures_a_returned_list_is_ignored(fake_aws: FakeAws) -> None:
    kept = source(report_failures=False).process(batch(2), Invoke({"batchItemFailures": [{"itemIdentifier": "m0"}]}))
    assert kept == set()
    assert sorted(fake_aws.sqs.deleted_handles) == ["rh-m0", "rh-m1"]


@pytest.mark.parametrize("report", [True, False])
def test_an_invocation_error_keeps_the_whole_batch(fake_aws: FakeAws, report: bool) -> None:
    src = source(report_failures=report)
    kept = src.process(batch(4), Invoke(error=InvocationError("Runtime.ExitError", "boom")))
    assert kept == {"m0", "m1", "m2", "m3"}
    assert fake_aws.sqs.delete_calls == []
    assert src.stats == {"batches": 1, "records": 4, "failed": 4}


def test_a_malformed_report_keeps_the_whole_batch(fake_aws: FakeAws) -> None:
    kept = source(report_failures=True).process(batch(2), Invoke({"batchItemFailures": [{"itemIdentifier": "x"}]}))
    assert kept == {"m0", "m1"} and fake_aws.sqs.delete_calls == []


def test_deletes_are_chunked_to_ten_entries(fake_aws: FakeAws) -> None:
    source(report_failures=True).process(batch(23), Invoke(None))
    assert [len(c["Entries"]) for c in fake_aws.sqs.delete_calls] == [10, 10, 3]
    assert len(set(fake_aws.sqs.deleted_handles)) == 23
    assert all(c["QueueUrl"] == QUEUE_URL for c in fake_aws.sqs.delete_calls)


def test_a_custom_transform_builds_the_event(fake_aws: FakeAws) -> None:
    invoke = Invoke(None)
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})
    source(transform=s3_event_from_messages).process([sqs_message("m0", body)], invoke)
    assert invoke.events[0][1] == {"Records": [{"eventName": "ObjectCreated:Put"}]}


def test_receive_without_a_window_is_one_long_poll(fake_aws: FakeAws) -> None:
    fake_aws.sqs.responses = [batch(3), batch(3)]
    got = source(batch_size=10, window_seconds=0).receive_batch(threading.Event(), wait_seconds=7)
    assert len(got) == 3
    (call,) = fake_aws.sqs.receive_calls
    assert call["QueueUrl"] == QUEUE_URL
    assert (call["MaxNumberOfMessages"], call["WaitTimeSeconds"]) == (10, 7)
    assert call["AttributeNames"] == ["All"] and call["MessageAttributeNames"] == ["All"]


def test_receive_with_a_window_fills_the_batch_up_to_batch_size(fake_aws: FakeAws) -> None:
    fake_aws.sqs.responses = [batch(10), batch(10), batch(5), batch(10)]
    got = source(batch_size=25, window_seconds=60).receive_batch(threading.Event(), wait_seconds=1)
    assert len(got) == 25
    asked = [(c["MaxNumberOfMessages"], c["WaitTimeSeconds"]) for c in fake_aws.sqs.receive_calls]
    assert asked == [(10, 1), (10, 0), (5, 0)]  # only the first receive long-polls


def test_receive_with_a_window_stops_when_the_queue_is_empty(fake_aws: FakeAws) -> None:
    fake_aws.sqs.responses = [batch(2), []]
    got = source(batch_size=100, window_seconds=60).receive_batch(threading.Event())
    assert len(got) == 2 and len(fake_aws.sqs.receive_calls) == 2


def test_receive_does_nothing_once_stopped(fake_aws: FakeAws) -> None:
    stop = threading.Event()
    stop.set()
    assert source().receive_batch(stop) == []
    assert fake_aws.sqs.receive_calls == []


def test_poll_once_receives_processes_and_counts(fake_aws: FakeAws) -> None:
    fake_aws.sqs.responses = [batch(2)]
    invoke = Invoke({"batchItemFailures": []})
    src = source(report_failures=True)
    assert src.poll_once(invoke, wait_seconds=0) == 2
    assert len(invoke.events) == 1 and len(fake_aws.sqs.deleted_handles) == 2
    assert src.poll_once(invoke, wait_seconds=0) == 0
    assert len(invoke.events) == 1  # an empty receive invokes nothing

"""The emulator's fixes change its speed only: queues still count, and sending or receiving counts nothing;
a paged Scan answers the pages moto answers without the fix; a transaction backs up and restores only its
own items, so a cancelled one is all or nothing and leaves every other item, however recently written, alone."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs import models

from infra.moto_server import (
    COUNTS,
    TABLE_CALLS,
    patch_message_clock,
    patch_send_message,
    patch_table_scan,
    patch_transact_write_items,
)

pytestmark = pytest.mark.usefixtures("moto_credentials")


def test_the_fix_applies_once_and_queues_still_count_what_they_hold() -> None:
    assert patch_send_message() and patch_send_message()  # idempotent
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for batch in range(3):
            entries = [{"Id": str(i), "MessageBody": f"m{batch}-{i}"} for i in range(10)]
            assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 10
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=4)["Messages"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (len(received), counts["ApproximateNumberOfMessages"]) == (4, "26")
        assert counts["ApproximateNumberOfMessagesNotVisible"] == "4"
        assert counts["ApproximateNumberOfMessagesDelayed"] == "1"


def test_sending_reads_no_count(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_send_message()
    reads: list[str] = []
    for name in COUNTS:
        patched = getattr(models.Queue, name)

        def counting(queue: Any, name: str = name, patched: property = patched) -> int:
            value = int(patched.fget(queue))  # type: ignore[misc]
            reads.append(f"{name}={value}")
            return value

        monkeypatch.setattr(models.Queue, name, property(counting))
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(10)])
        assert len(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3)["Messages"]) == 3
        assert all(read.endswith("=0") for read in reads), reads  # while sending or receiving, counts answer 0
        reads.clear()
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        assert "approximate_number_of_messages=7" in reads


def _scan_pages(dynamodb: Any, table: str, segments: int) -> list[list[dict[str, Any]]]:
    pages = []
    for segment in range(segments):
        request: dict[str, Any] = {"TableName": table, "Limit": 7, "Segment": segment, "TotalSegments": segments}
        while True:
            page = dynamodb.scan(**request)
            pages.append(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return pages


def _scans_of_a_changing_table() -> list[list[list[dict[str, Any]]]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="by-hash",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName="by-range",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "s", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "k", "AttributeType": "S"},
                {"AttributeName": "s", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(60):
            dynamodb.put_item(TableName="by-hash", Item={"k": {"S": f"sku-{(i * 37) % 101}"}, "v": {"N": str(i)}})
            dynamodb.put_item(TableName="by-range", Item={"k": {"S": f"u{i % 4}"}, "s": {"N": str(60 - i)}})
        scans = [_scan_pages(dynamodb, table, segments) for table in ("by-hash", "by-range") for segments in (1, 3)]
        # A page, then writes, then the next page: the next page sees the writes as moto shows them.
        first = dynamodb.scan(TableName="by-hash", Limit=10)
        dynamodb.delete_item(TableName="by-hash", Key={"k": first["Items"][3]["k"]})
        dynamodb.put_item(TableName="by-hash", Item={"k": {"S": "sku-0000"}})
        dynamodb.put_item(TableName="by-hash", Item={"k": {"S": "zzz"}})
        dynamodb.update_item(
            TableName="by-hash",
            Key={"k": {"S": "sku-1"}},
            UpdateExpression="SET v = :v",
            ExpressionAttributeValues={":v": {"N": "-1"}},
        )
        rest = dynamodb.scan(TableName="by-hash", ExclusiveStartKey=first["LastEvaluatedKey"])
        scans.append([first["Items"], rest["Items"]])
        return scans


def test_scan_pages_are_what_moto_answers_without_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import table as table_models

    for name in TABLE_CALLS:  # moto as shipped, whatever an earlier test patched
        monkeypatch.setattr(table_models.Table, name, _unpatched(getattr(table_models.Table, name)))
    as_shipped = _scans_of_a_changing_table()
    assert patch_table_scan() and patch_table_scan()  # idempotent
    assert _scans_of_a_changing_table() == as_shipped
    assert sum(len(page) for page in as_shipped[0]) == len({f"sku-{(i * 37) % 101}" for i in range(60)})


def _unpatched(call: Any) -> Any:
    while hasattr(call, "__wrapped__"):
        call = call.__wrapped__
    return call


def _catalogue(dynamodb: Any, items: int) -> None:
    dynamodb.create_table(
        TableName="catalogue",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(items):
        dynamodb.put_item(TableName="catalogue", Item={"k": {"S": f"sku-{i}"}, "v": {"N": "0"}})


def _failing_transaction(dynamodb: Any) -> Any:
    """Sets sku-0, adds sku-new, then fails its condition on sku-1: the first two must be undone."""
    return dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": "catalogue",
                    "Key": {"k": {"S": "sku-0"}},
                    "UpdateExpression": "SET v = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
            {"Put": {"TableName": "catalogue", "Item": {"k": {"S": "sku-new"}, "v": {"N": "1"}}}},
            {
                "ConditionCheck": {
                    "TableName": "catalogue",
                    "Key": {"k": {"S": "sku-1"}},
                    "ConditionExpression": "v = :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )


def test_a_cancelled_transaction_restores_its_items_and_keeps_a_concurrent_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    assert patch_transact_write_items() and patch_transact_write_items()  # idempotent
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        _catalogue(dynamodb, 5)
        # Another request writes sku-3 while the transaction runs (between its backup and its cancellation).
        backend_get_item = DynamoDBBackend.get_item

        def interleaved(backend: Any, table_name: str, keys: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            if keys == {"k": {"S": "sku-1"}}:
                backend.put_item("catalogue", {"k": {"S": "sku-3"}, "v": {"N": "7"}})
            return backend_get_item(backend, table_name, keys, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, "get_item", interleaved)
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
            _failing_transaction(dynamodb)
        monkeypatch.setattr(DynamoDBBackend, "get_item", backend_get_item)
        reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
        assert reasons == ["None", "None", "ConditionalCheckFailed"]  # moto's answer, unchanged
        items = {item["k"]["S"]: item["v"]["N"] for item in dynamodb.scan(TableName="catalogue")["Items"]}
        assert items == {"sku-0": "0", "sku-1": "0", "sku-2": "0", "sku-3": "7", "sku-4": "0"}
        # A transaction that succeeds applies everything.
        dynamodb.put_item(TableName="catalogue", Item={"k": {"S": "sku-1"}, "v": {"N": "1"}})
        _failing_transaction(dynamodb)
        items = {item["k"]["S"]: item["v"]["N"] for item in dynamodb.scan(TableName="catalogue")["Items"]}
        assert (items["sku-0"], items["sku-new"], len(items)) == ("1", "1", 6)


def test_a_transaction_copies_its_items_not_its_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    import copy

    from moto.dynamodb.models import table as table_models

    patch_transact_write_items()
    copied: list[str] = []
    deepcopy = copy.deepcopy

    def watching(value: Any, memo: Any = None) -> Any:
        copied.append(type(value).__name__)
        return deepcopy(value, memo)

    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        _catalogue(dynamodb, 200)
        monkeypatch.setattr(copy, "deepcopy", watching)
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            _failing_transaction(dynamodb)  # cancelled
        dynamodb.put_item(TableName="catalogue", Item={"k": {"S": "sku-1"}, "v": {"N": "1"}})
        _failing_transaction(dynamodb)  # commits
        monkeypatch.setattr(copy, "deepcopy", deepcopy)
        assert "Table" in copied  # moto still asks for its whole-table backup ...
        # ... but what gets copied is the items the transaction names (their attributes' values), whatever
        # the table holds: moto as shipped copied every item's every value (over 1,000 copies here).
        assert copied.count("DynamoType") <= 2 * 3 * 4, copied
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["us-east-1"].tables["catalogue"]
        assert isinstance(table, table_models.Table) and len(table) == 201
        assert copy.deepcopy(table) is not table  # any other copy of a table is still a copy


def test_the_clock_fix_answers_what_moto_answers() -> None:
    """Visibility and delay read `time.time()` instead of building datetimes: the same answers, message by message."""
    from moto.core.utils import unix_time_millis

    assert patch_message_clock() and patch_message_clock()  # idempotent
    message = models.Message("m-1", "body")
    now = unix_time_millis()
    for visible_at, delayed_until in [(0.0, 0.0), (now + 60_000, 0.0), (now - 60_000, now + 60_000)]:
        message.visible_at, message.delayed_until = visible_at, delayed_until
        assert message.visible == (unix_time_millis() > visible_at)
        assert message.delayed == (unix_time_millis() < delayed_until)
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "m"} for i in range(5)])
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)["Messages"]
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert len(taken) == 2 and len(again) == 3  # in flight and delayed messages are not handed out
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert (counts["ApproximateNumberOfMessagesNotVisible"], counts["ApproximateNumberOfMessagesDelayed"]) == (
            "5",
            "1",
        )

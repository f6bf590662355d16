"""The embedded emulator's TransactWriteItems against the real server, under concurrent requests: a cancelled
transaction changes none of its items and undoes no other request's write to the same table (moto as shipped
restored whole-table copies, losing writes made while a transaction ran; AWS never does)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from commerce_ai import aws
from infra import emulator as emu


def _table(dynamodb: Any) -> str:
    name = f"it-transactions-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _cancelled(dynamodb: Any, table: str) -> None:
    """Counts on t-0 and creates t-new, then fails its condition on t-1: nothing of it may stay."""
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"k": {"S": "t-0"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"k": {"S": "t-new"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"k": {"S": "t-1"}},
                        "ConditionExpression": "attribute_not_exists(k)",
                    }
                },
            ]
        )


def test_cancelled_transactions_keep_their_items_and_every_concurrent_write(local_aws: emu.Emulator) -> None:
    dynamodb = aws.client("dynamodb")
    table = _table(dynamodb)
    for key in ("t-0", "t-1"):
        dynamodb.put_item(TableName=table, Item={"k": {"S": key}, "n": {"N": "0"}})
    writes, done = 60, threading.Event()

    def write() -> None:
        writer = aws.client("dynamodb")
        for i in range(writes):
            writer.put_item(TableName=table, Item={"k": {"S": f"w-{i}"}})
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    cancelled = 0
    while not done.is_set() or cancelled < 5:
        _cancelled(dynamodb, table)
        cancelled += 1
    writer.join()
    items = {item["k"]["S"]: item.get("n", {}).get("N") for item in dynamodb.scan(TableName=table)["Items"]}
    assert {key for key in items if key.startswith("w-")} == {f"w-{i}" for i in range(writes)}
    assert (items["t-0"], "t-new" in items) == ("0", False)
    dynamodb.delete_table(TableName=table)

"""The benchmarks' AWS cost model (tests/benchmarks/_cost.py) bills DynamoDB reads as DynamoDB does: a Query or
Scan by the items it reads, whole, whatever its projection or filter returns; an index Scan by its entries."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.benchmarks._cost import counting_calls, item_bytes, resolve_reads, resolve_updates

PADDING = "x" * 3000  # each item about 3 KB: a whole-item read of 4 items is 3 read units, its keys 1


@pytest.fixture
def dynamodb(moto_credentials: None) -> Any:
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName="catalog",
            KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "sku", "AttributeType": "S"},
                {"AttributeName": "stage", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "StageIndex",
                    "KeySchema": [
                        {"AttributeName": "stage", "KeyType": "HASH"},
                        {"AttributeName": "sku", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(4):
            client.put_item(
                TableName="catalog",
                Item={"sku": {"S": f"s-{i}"}, "stage": {"S": "mature"}, "pad": {"S": PADDING}},
            )
        yield client


def test_a_projected_or_filtered_scan_is_billed_by_the_whole_items_it_read(dynamodb: Any) -> None:
    with counting_calls() as calls:
        keys = dynamodb.scan(TableName="catalog", ProjectionExpression="sku", ConsistentRead=True)
        dynamodb.scan(
            TableName="catalog",
            FilterExpression="#sku = :none",
            ExpressionAttributeNames={"#sku": "sku"},
            ExpressionAttributeValues={":none": {"S": "nothing"}},
            ConsistentRead=True,
        )
    assert len(keys["Items"]) == 4 and calls.dynamodb_read_units == 2  # what the responses carried: 1 each
    resolve_reads(calls, dynamodb)
    whole = sum(item_bytes(i) for i in dynamodb.scan(TableName="catalog")["Items"])
    assert 2 * 4096 < whole <= 3 * 4096
    assert calls.dynamodb_read_units == 2 * 3  # each read 4 items of ~3 KB: 3 units (strongly consistent)
    assert not calls.partial_reads


def test_a_keys_only_index_scan_is_billed_by_its_entries(dynamodb: Any) -> None:
    with counting_calls() as calls:
        entries = dynamodb.scan(TableName="catalog", IndexName="StageIndex")["Items"]
    assert all(set(entry) == {"sku", "stage"} for entry in entries) and len(entries) == 4
    resolve_reads(calls, dynamodb)
    assert calls.dynamodb_read_units == 0.5  # 4 entries of ~15 bytes, eventually consistent


def test_an_update_is_billed_by_its_items_size(dynamodb: Any) -> None:
    with counting_calls() as calls:
        for chunk in range(3):
            dynamodb.update_item(
                TableName="catalog",
                Key={"sku": {"S": "s-0"}},
                UpdateExpression="ADD done_chunks :chunk",
                ExpressionAttributeValues={":chunk": {"NS": [str(chunk)]}},
            )
    assert calls.dynamodb_write_units == 3  # one each until resolved
    resolve_updates(calls, dynamodb)
    assert calls.dynamodb_write_units == 3 * 3  # the item is ~3 KB: 3 units each

"""Competitor prices in DynamoDB (real boto3 on the emulator): latest wins whatever the delivery order,
history keeps every observation once, and a redelivery changes nothing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from commerce_ai import aws
from commerce_ai.pricing.observations import CompetitorPrice, CompetitorPriceStore
from infra import emulator as emu

_tables = itertools.count()
T0 = datetime(2026, 11, 27, 10, tzinfo=UTC)


@pytest.fixture
def store(local_aws: emu.Emulator) -> Iterator[CompetitorPriceStore]:
    # The pricing table joins template.yaml with the pricing functions; until then the test makes one
    # with the same key schema.
    name = f"pricing-it-{next(_tables)}"
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "sku", "AttributeType": "S"},
            {"AttributeName": "item", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "sku", "KeyType": "HASH"}, {"AttributeName": "item", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield CompetitorPriceStore(name)
    ddb.delete_table(TableName=name)


def observed(competitor: str, price: float, minutes: int) -> CompetitorPrice:
    return CompetitorPrice.model_validate(
        {
            "sku": "oj-2-1",
            "competitor": competitor,
            "price": price,
            "currency": "USD",
            "observed_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        }
    )


def test_the_latest_observation_wins_whatever_the_delivery_order(store: CompetitorPriceStore) -> None:
    assert store.record(observed("megamart", 2.59, minutes=10)) == "latest"
    assert store.record(observed("megamart", 2.99, minutes=0)) == "older"  # arrives late
    assert store.record(observed("shopco", 2.49, minutes=5)) == "latest"

    latest = store.latest("oj-2-1")
    assert {c: o.price for c, o in latest.items()} == {"megamart": 2.59, "shopco": 2.49}
    assert [o.price for o in store.history("oj-2-1", "megamart")] == [2.99, 2.59]  # in time order


def test_a_redelivered_observation_changes_nothing(store: CompetitorPriceStore) -> None:
    for _ in range(3):
        assert store.record(observed("megamart", 2.59, minutes=10)) == "latest"
    items = aws.client("dynamodb").scan(TableName=store.table)["Items"]
    assert sorted(i["item"]["S"] for i in items) == [
        "competitor#megamart",
        "history#megamart#2026-11-27T10:10:00.000000Z",
    ]
    assert json.loads(json.dumps(items[0]["price"]))["N"] == "2.59"

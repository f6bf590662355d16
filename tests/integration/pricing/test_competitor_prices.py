"""Competitor prices in DynamoDB (real boto3 on the emulator): latest wins whatever the delivery order,
history keeps every observation once, and a redelivery changes nothing."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.pricing.observations import CompetitorPrice, CompetitorPriceStore
from infra import emulator as emu
from infra.template import Stack
from tests.support.events import sample_body

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


def test_the_queue_function_records_good_prices_and_fails_only_the_poison(stack: Stack) -> None:
    from infra.runner.sqs_poller import QueueSource
    from tests.support.invoke import in_process

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("CompetitorPricesQueue"))["QueueUrl"]
    sample = sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json")
    bodies = [
        json.dumps({**sample, "sku": "oj-9-1"}),
        json.dumps({**sample, "sku": "oj-9-1", "competitor": "shopco", "price": 2.49}),
        json.dumps({**sample, "sku": "oj-9-1", "currency": "dollars"}),  # poison
    ]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
    source = QueueSource(
        "CompetitorPricesFunction",
        url,
        stack.arn("CompetitorPricesQueue"),
        batch_size=10,
        window_seconds=2,
        report_failures=True,
    )

    batch = source.receive_batch(threading.Event())
    kept = source.process(batch, in_process(stack))

    assert len(batch) == 3 and len(kept) == 1
    store = CompetitorPriceStore(stack.physical_name("PricingTable"))
    assert {c: o.price for c, o in store.latest("oj-9-1").items()} == {"megamart": 2.79, "shopco": 2.49}


def test_a_batch_of_nothing_but_poison_is_reported_not_raised(stack: Stack) -> None:
    """Every record goes back to the queue (then the DLQ), and the function is not counted as failing."""
    from infra.runner.sqs_poller import QueueSource
    from tests.support.invoke import in_process

    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("CompetitorPricesQueue"))["QueueUrl"]
    sample = sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json")
    bodies = [json.dumps({**sample, "currency": "EUR"}), "not json"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)])
    source = QueueSource("CompetitorPricesFunction", url, stack.arn("CompetitorPricesQueue"), 10, 2, True)
    results: list[Any] = []

    def invoke(function: str, event: dict[str, Any]) -> Any:
        results.append(in_process(stack)(function, event))
        return results[-1]

    batch = source.receive_batch(threading.Event())
    kept = source.process(batch, invoke)
    assert len(batch) == 2 and len(kept) == 2
    assert sorted(f["itemIdentifier"] for f in results[0]["batchItemFailures"]) == sorted(kept)

"""The tick that scales out, on the emulator: RepricingFunction plans a whole-catalog tick and queues its
chunks on RepriceChunksQueue; RepriceChunkFunction decides and writes each chunk, idempotent per tick and
chunk. A chunk redelivered after a partial failure applies nothing twice and publishes no event twice; a
chunk that fails every attempt reaches the DLQ counted failed, and redriven from it is counted done."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.pricing import service
from commerce_ai.pricing.catalog import CatalogStore, SkuState
from commerce_ai.pricing.decision_archive import DecisionArchive
from commerce_ai.pricing.tick_log import TickLog
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from tests.support.invoke import in_process
from tests.support.pricing import THREE_SKUS, drain_chunks, planned_tick, price_changes_listener, received


@pytest.fixture
def quick_redelivery(stack: Stack) -> Iterator[str]:
    """RepriceChunksQueue redelivering a failed chunk after 1 s instead of 30 minutes (restored after)."""
    sqs = aws.client("sqs")
    url: str = sqs.get_queue_url(QueueName=stack.physical_name("RepriceChunksQueue"))["QueueUrl"]
    before = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    try:
        yield url
    finally:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=before)


def catalog_skus(catalog: CatalogStore) -> list[str]:
    return sorted(s if isinstance(s, str) else s.sku for s in catalog.read().states())


def test_a_chunk_redelivered_after_a_partial_failure_applies_nothing_twice_and_publishes_nothing_twice(
    stack: Stack, demand_model: str, quick_redelivery: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = CatalogStore(stack.physical_name("PricingCatalogTable"))
    for name, (price, cost) in THREE_SKUS.items():
        catalog.put(SkuState(sku=f"scaled-{name}", price=price, cost=cost, history=[price]))
    events = price_changes_listener(stack, "scaled-tick-price-changes")
    shop = Catalog(stack.physical_name("CatalogTable"))  # the shop catalogue lists one of them
    shop.put(
        CatalogItem(item_id="scaled-cut", title="Juice", category="juice", price=3.0, updated_at=datetime.now(UTC))
    )
    moment = "2026-11-30T09:00:00.000Z"
    planned = planned_tick(stack, moment)
    assert planned["tick"] == moment and planned["chunks"] >= 1 and planned["skus"] == len(catalog_skus(catalog))
    log = TickLog(stack.physical_name("PricingTable"))
    assert (log.get(moment).state, log.get(moment).chunks, log.get(moment).chunks_done) == (
        "running",
        planned["chunks"],
        0,
    )

    # First delivery: the prices are changed and the events published, then the S3 log write fails.
    def unwritable(*_: Any, **__: Any) -> Any:
        raise ConnectionError("the decision-log bucket is unreachable")

    monkeypatch.setattr(DecisionArchive, "write", unwritable)
    drain_chunks(stack)
    assert catalog.get("scaled-cut").price == 2.7 and catalog.get("scaled-raise").price == 2.2
    first = Counter(e["event_id"] for e in received(events))
    assert first[f"{moment}#scaled-cut"] == 1 and first[f"{moment}#scaled-raise"] == 1
    assert log.get(moment).chunks_done == 0 and log.get(moment).state == "running", "not counted: it failed"

    # Redelivered: nothing applied twice, no event published twice, the chunk counted once.
    monkeypatch.undo()
    time.sleep(1.2)
    drain_chunks(stack)
    assert catalog.get("scaled-cut").price == 2.7 and catalog.get("scaled-cut").history[-2:] == [3.0, 2.7]
    assert [e for e in received(events) if e["sku"].startswith("scaled-")] == [], "no event twice"
    done = log.get(moment)
    assert (done.state, done.chunks_done, done.chunks_failed) == ("done", planned["chunks"], 0)
    assert done.summary is not None and done.summary["skus"] == planned["skus"]
    assert done.summary["already_done"] >= 2, "the retry skipped the SKUs its first attempt changed"
    # The tick's S3 log (one object per chunk) holds exactly one record per catalog SKU.
    lines = DecisionArchive(stack.physical_name("PricingDecisionLogBucket")).records(moment)
    assert sorted(line["sku"] for line in lines) == catalog_skus(catalog)
    cut = next(line for line in lines if line["sku"] == "scaled-cut")
    assert cut["outcome"] == "applied" and cut["applied"] == 2.7

    # The schedule's retry of the same tick plans it again: every chunk is done, nothing runs or counts twice.
    planned_tick(stack, moment)
    drain_chunks(stack)
    assert log.get(moment).summary == done.summary and log.get(moment).chunks_done == planned["chunks"]

    # The shop catalogue's price follows, through its own subscription to PriceChangesTopic.
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("CataloguePriceChangesQueue"))["QueueUrl"]
    source = QueueSource(
        "CataloguePricesFunction", url, stack.arn("CataloguePriceChangesQueue"), batch_size=10, report_failures=True
    )
    while source.poll_once(in_process(stack), wait_seconds=1):
        pass
    item = shop.get("scaled-cut")
    assert item is not None and item.price == 2.7 and item.title == "Juice"


def test_a_chunk_failing_every_attempt_reaches_the_dlq_counted_failed_and_redriven_is_done(
    stack: Stack, demand_model: str, quick_redelivery: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = CatalogStore(stack.physical_name("PricingCatalogTable"))
    catalog.put(SkuState(sku="redriven-cut", price=3.0, cost=1.0, history=[3.0]))
    moment = "2026-11-30T10:00:00.000Z"
    planned = planned_tick(stack, moment)

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("the demand model is unreachable")

    monkeypatch.setattr(service, "run_tick", broken)
    for _ in range(4):  # three attempts, then the queue's redrive policy moves each chunk to the DLQ
        drain_chunks(stack)
        time.sleep(1.2)
    log = TickLog(stack.physical_name("PricingTable"))
    failed = log.get(moment)
    assert (failed.state, failed.chunks_failed, failed.chunks_done) == ("failed", planned["chunks"], 0)
    assert failed.error and "RepriceChunksDLQ" in failed.error
    assert catalog.get("redriven-cut").price == 3.0

    # Redrive: the DLQ's messages back onto the queue (what the console's "Start DLQ redrive" does).
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName=stack.physical_name("RepriceChunksDLQ"))["QueueUrl"]
    moved = 0
    while messages := sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
        for message in messages:
            sqs.send_message(QueueUrl=quick_redelivery, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    assert moved == planned["chunks"]
    monkeypatch.undo()
    drain_chunks(stack)
    done = log.get(moment)
    assert (done.state, done.chunks_done, done.chunks_failed) == ("done", planned["chunks"], 0)
    assert catalog.get("redriven-cut").price == 2.7

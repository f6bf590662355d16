"""Pricing's test helpers, shared by its unit and integration tests and the benchmarks: a real
`pricing-demand` artifact built quickly, and raw writes into the catalog's storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from commerce_ai.artifacts.manifest import TrainingData
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.pricing.catalog import KEY, CatalogStore
from commerce_ai.pricing.decisions import DecisionLog, DecisionRecord, recent_records
from model_build import Built


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    return {"N": repr(value)} if isinstance(value, int | float) else {"S": str(value)}


def store_raw(catalog: CatalogStore, sku: str, entry: dict[str, Any]) -> None:
    """Put a SKU's item as given, valid or not (as an operator's console edit or another tool might)."""
    item = {KEY: {"S": sku}, **{name: _value(value) for name, value in entry.items()}}
    catalog.ddb.put_item(TableName=catalog.table, Item=item)


# ------------------------------------------------------------------------------- pricing-demand

# The synthetic market behind `built_pricing_demand`: log units = level + ELASTICITY x log(price / 2).
SYNTHETIC_ELASTICITY = -2.5


SYNTHETIC_PRICE_RANGE = (1.0, 4.0)  # the synthetic market's training prices


def pricing_serving_table(skus: dict[str, tuple[float, float]], elasticity: float = SYNTHETIC_ELASTICITY) -> Any:
    """A serving table for `skus` (sku -> (price, cost)), all at level log(100) and brand 1."""
    from commerce_ai.pricing.demand import ServingTable, SkuProfile

    return ServingTable(
        output="log_units",
        smearing=1.0,
        default_level=float(np.log(100.0)),
        pooled_elasticity=elasticity,
        skus={
            sku: SkuProfile(
                level=float(np.log(100.0)),
                brand=1,
                elasticity=elasticity,
                price=price,
                cost=cost,
                price_range=SYNTHETIC_PRICE_RANGE,
            )
            for sku, (price, cost) in skus.items()
        },
    )


def built_pricing_demand(directory: Path, skus: dict[str, tuple[float, float]]) -> Built:
    """A real `pricing-demand` artifact, quickly: a small LightGBM (the production exporter turns it into
    ONNX) trained on a synthetic constant-elasticity market, plus a serving table for `skus`."""
    import lightgbm as lgb

    from commerce_ai.pricing.demand import SERVING_TABLE
    from commerce_ai.pricing.features import FEATURE_NAMES, demand_features
    from model_build.pricing.export import demand_built, lightgbm_to_onnx

    rng = np.random.default_rng(0)
    n = 4000
    price = rng.uniform(*SYNTHETIC_PRICE_RANGE, n)
    level = np.full(n, np.log(100.0))
    columns = {
        "price": price,
        "deal": np.zeros(n),
        "feat": np.zeros(n),
        "week_of_year": rng.integers(1, 53, n).astype(float),
        "sku_level": level,
        "brand": np.ones(n),
    }
    log_units = level + SYNTHETIC_ELASTICITY * np.log(price / 2.0) + rng.normal(0, 0.05, n)
    monotone = [-1 if name == "log_price" else 0 for name in FEATURE_NAMES]
    booster = lgb.LGBMRegressor(n_estimators=60, num_leaves=15, monotone_constraints=monotone, verbose=-1)
    booster.fit(demand_features(columns), log_units)
    lightgbm_to_onnx(booster, directory / "model.onnx")
    (directory / SERVING_TABLE).write_text(pricing_serving_table(skus).model_dump_json())
    return demand_built(
        directory, TrainingData(fingerprint="0" * 64, source="tests/support/pricing.py (synthetic market)"), {}
    )


# ------------------------------------------------------------------------------- a scaled-out tick


def chunk_source(stack: Any) -> Any:
    """RepriceChunksQueue's event source as the template wires it (one chunk an invocation)."""
    from commerce_ai import aws
    from infra.runner.sqs_poller import QueueSource

    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("RepriceChunksQueue"))["QueueUrl"]
    return QueueSource("RepriceChunkFunction", url, stack.arn("RepriceChunksQueue"), batch_size=1, report_failures=True)


def drain_chunks(stack: Any) -> int:
    """Run the chunk worker in this process until RepriceChunksQueue is empty; the chunks run."""
    from tests.support.invoke import in_process

    source, invoke, ran = chunk_source(stack), in_process(stack), 0
    while source.poll_once(invoke, wait_seconds=1):
        ran += 1
    return ran


def planned_tick(stack: Any, time: str) -> dict[str, Any]:
    """The schedule's tick at `time` planned by RepricingFunction: its chunks queued, none run yet."""
    from infra.runner.local import rule_arn
    from infra.runner.scheduler import scheduled_event
    from tests.support.invoke import in_process

    event = {**scheduled_event(rule_arn(stack, stack.function("RepricingFunction"))), "time": time}
    plan: dict[str, Any] = in_process(stack)("RepricingFunction", event)
    return plan


def scheduled_tick(stack: Any, time: str) -> dict[str, Any]:
    """The schedule's tick at `time` end to end: RepricingFunction plans it and queues its chunks, the chunk
    worker runs them; returns the tick's summary as its status counts it."""
    from commerce_ai.pricing.tick_log import TickLog

    plan = planned_tick(stack, time)
    drain_chunks(stack)
    status = TickLog(stack.physical_name("PricingTable")).get(plan["tick"])
    assert status.state == "done" and status.summary is not None, status
    return {**status.summary, "chunks": status.chunks}


# ------------------------------------------------------------------------------- on the emulator

# sku -> (price, cost) on the synthetic market (elasticity -2.5, so the myopic price is cost x 2.5 / 1.5):
# keep 2.00 stays 2.00, cut 3.00 moves toward 1.67, raise 2.00 toward 3.17 (each within a tick's step limit).
THREE_SKUS = {"keep": (2.0, 1.2), "cut": (3.0, 1.0), "raise": (2.0, 1.9)}


def activate_pricing_demand(stack: Any, directory: Path) -> str:
    """A `pricing-demand` built on the synthetic market, published, validated and active; its version."""
    from commerce_ai.artifacts.registry import ModelRegistry
    from commerce_ai.artifacts.store import ArtifactStore
    from commerce_ai.pricing.demand import MODEL_NAME
    from model_build import publish
    from tests.integration.local_stack import drain

    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    manifest = publish(store, built_pricing_demand(directory, {}))
    drain(stack, registry, MODEL_NAME, versions=len(registry.versions(MODEL_NAME)) + 1)
    registry.activate(MODEL_NAME, manifest.version)
    return manifest.version


def price_changes_listener(stack: Any, name: str) -> str:
    """A queue of this name subscribed (raw delivery) to PriceChangesTopic, as a storefront would be; its URL."""
    from commerce_ai import aws

    sqs = aws.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(
        TopicArn=stack.arn("PriceChangesTopic"), Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    return url


def received(url: str) -> list[dict[str, Any]]:
    """Every message waiting on the queue at `url`, decoded and deleted."""
    import json

    from commerce_ai import aws

    sqs = aws.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
        found.extend(json.loads(m["Body"]) for m in messages)
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=url, Entries=entries)
    return found


def sku_history(catalog: CatalogStore, log: DecisionLog, sku: str, limit: int = 100) -> list[DecisionRecord]:
    """A SKU's decision history as `GET /pricing/prices/{sku}/history` shows it: the changes its catalog item
    holds merged with its audit items, newest first (empty for a SKU not in the catalog)."""
    try:
        recent = recent_records(sku, catalog.get(sku).recent_changes)
    except (NotFound, InvalidInput):  # not in the catalog, or its item does not parse
        recent = []
    return log.history(sku, limit, None, recent)[0]

"""The boto3 clients the tick uses (pool size, timeouts) and the decision stamping that replaces
`dataclasses.replace` on the tick's hot path."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime

from commerce_ai import aws
from commerce_ai.pricing import catalog, decisions
from commerce_ai.pricing.catalog import CatalogStore
from commerce_ai.pricing.decisions import DecisionLog
from commerce_ai.pricing.guardrails import Decision, decide
from commerce_ai.pricing.repricing import _stamped, sku_pricing
from tests.unit.pricing.test_repricing import entry

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_every_thread_pool_gets_a_connection_of_its_own() -> None:
    widest = max(catalog.WRITE_THREADS, catalog.SCAN_SEGMENTS, decisions.WRITE_THREADS)
    assert widest <= aws.MAX_POOL_CONNECTIONS
    for bulk in (False, True):
        assert aws.client("dynamodb", bulk=bulk).meta.config.max_pool_connections == aws.MAX_POOL_CONNECTIONS


def test_bulk_calls_may_take_longer_than_interactive_ones() -> None:
    interactive, bulk = aws.client("dynamodb"), aws.client("dynamodb", bulk=True)
    assert interactive is not bulk and aws.client("dynamodb", bulk=True) is bulk
    assert interactive.meta.config.read_timeout == aws.INTERACTIVE_READ_TIMEOUT == 10
    assert bulk.meta.config.read_timeout == aws.BULK_READ_TIMEOUT > aws.INTERACTIVE_READ_TIMEOUT
    assert bulk.meta.config.connect_timeout == interactive.meta.config.connect_timeout


def test_an_injected_client_serves_both_the_interactive_and_the_bulk_calls() -> None:
    fake = object()
    store, log = CatalogStore("t", fake), DecisionLog("t", fake)
    assert store.ddb is fake and store.bulk is fake and log.ddb is fake and log.bulk is fake
    shared = CatalogStore("t")
    assert shared.ddb is aws.client("dynamodb") and shared.bulk is aws.client("dynamodb", bulk=True)


def test_stamping_a_decision_equals_replace() -> None:
    assert [f.name for f in fields(Decision)][-2:] == ["model_version", "policy_version"]
    for item in (entry(), entry(current_price=2.0, cost=1.99), entry(elasticity=-0.5)):
        decision = decide(sku_pricing(item), 2.42, NOW)
        assert _stamped(decision, "v1", "p1") == replace(decision, model_version="v1", policy_version="p1")

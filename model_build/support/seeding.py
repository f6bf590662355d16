"""Seed the demo orders and the FAQ (data/orders.json, data/faq.json) once the stack is up: only what is
missing is added, so an admin's FAQ edit or a cancelled demo order is never undone. Then the one-off
`user_hash` backfill (model_build/support/backfill.py), which finds nothing to do once it has run."""

from __future__ import annotations

import json
from typing import Any

from commerce_ai.catalog.items import CatalogItem, ItemFields
from commerce_ai.catalog.store import Catalog
from commerce_ai.support.faq import FaqEntry
from commerce_ai.support.graph import Edge
from commerce_ai.support.orders import Order
from commerce_ai.support.store import DynamoGraph, DynamoOrders, FaqStore
from model_build.support.backfill import backfill
from model_build.support.data import DATA


def demo_orders() -> list[Order]:
    document = json.loads((DATA / "orders.json").read_text(encoding="utf-8"))
    return [Order.model_validate(order) for order in document["orders"]]


def faq_entries() -> list[FaqEntry]:
    document = json.loads((DATA / "faq.json").read_text(encoding="utf-8"))
    return [FaqEntry.model_validate({k: v for k, v in e.items() if k != "test_queries"}) for e in document["entries"]]


def faq_test_queries() -> list[tuple[str, str, str]]:
    """(faq_id, language, query): held out, never indexed."""
    document = json.loads((DATA / "faq.json").read_text(encoding="utf-8"))
    return [
        (entry["faq_id"], language, query)
        for entry in document["entries"]
        for language, queries in entry["test_queries"].items()
        for query in queries
    ]


def demo_catalogue() -> tuple[list[CatalogItem], list[Edge]]:
    from datetime import UTC, datetime

    document = json.loads((DATA / "product_graph.json").read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    items = [
        ItemFields.model_validate({k: v for k, v in raw.items() if k != "item_id"}).at(raw["item_id"], now)
        for raw in document["items"]
    ]
    return items, [Edge(*relation) for relation in document["relations"]]


SEED_NAME = "product_graph.json"


def seed_graph(graph: DynamoGraph) -> int:
    """Add the demo items the catalogue lacks, then, the first time only, every relation and alias: admins
    edit the graph over HTTP, and a later `up` must not put back what they removed."""
    items, edges = demo_catalogue()
    present = graph.catalog.get_many([i.item_id for i in items])
    missing = [i for i in items if i.item_id not in present]
    graph.catalog.put_many(missing)
    if graph.seeded(SEED_NAME):
        return len(missing)
    for edge in edges:
        graph.put_edge(edge)
    for item in items:
        for alias in str(item.attributes.get("aliases", "")).split("|"):
            if alias:
                graph.put_alias(alias, item.item_id)
    graph.mark_seeded(SEED_NAME)  # last: a seed cut short is done again in full (every put is idempotent)
    return len(missing)


def seed_stack(stack: Any) -> str:
    orders = DynamoOrders(stack.physical_name("SupportOrdersTable"))
    faq = FaqStore(stack.physical_name("SupportFaqTable"))
    added_orders = sum(orders.put(order, only_if_absent=True) for order in demo_orders())
    added_faq = sum(faq.put(entry, only_if_absent=True) for entry in faq_entries())
    graph = DynamoGraph(stack.physical_name("SupportGraphTable"), Catalog(stack.physical_name("CatalogTable")))
    added_items = seed_graph(graph)
    migrated = backfill(
        stack.physical_name("SupportConversationsTable"),
        stack.physical_name("SupportTicketsTable"),
        stack.physical_name("UserErasuresTable"),
    )
    return (
        f"support: {added_orders} demo order(s), {added_faq} FAQ entr(ies), {added_items} demo catalogue item(s) added"
        f"; {migrated.hashed} item(s) from before the by_user index given a user hash, {migrated.deleted} of erased"
        " users deleted"
    )


class MemoryOrders:
    """`OrdersBackend` over the demo orders, in memory (the report's example dialogues and the unit tests)."""

    def __init__(self) -> None:
        self.orders = {o.order_id: o for o in demo_orders()}

    def get(self, order_id: str) -> Order | None:
        return self.orders.get(order_id)

    def cancel(self, order_id: str) -> Order:
        self.orders[order_id] = self.orders[order_id].model_copy(update={"status": "cancelled"})
        return self.orders[order_id]

    def change_address(self, order_id: str, address: str) -> Order:
        self.orders[order_id] = self.orders[order_id].model_copy(update={"address": address})
        return self.orders[order_id]

"""Shared test helpers for the risk serving code: a fixed clock origin, places, the in-memory store the
training replay uses, and the DynamoDB store (over tests/unit/fakes.py's FakeDynamoDB) serving uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from commerce_ai.risk.features import FEATURE_NAMES, payment_features, rule_signals
from commerce_ai.risk.graph import GraphSnapshot
from commerce_ai.risk.store import RiskStore, update_request
from commerce_ai.risk.velocity import Item, Update, apply, entity_key, login_updates, payment_updates
from tests.unit.fakes import FakeDynamoDB

# 2026-01-01T00:00:00Z: a multiple of 300, 3600 and 86400, so it starts a bucket at every resolution.
T0 = 1_767_225_600.0
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

MADRID = (40.4168, -3.7038)
TOLEDO = (39.8628, -4.0273)  # about 70 km from Madrid
MOSCOW = (55.7558, 37.6173)  # about 3,440 km from Madrid
PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)

STATE_TABLE = "risk-state"
RESULTS_TABLE = "risk-results"
NO_GRAPH = GraphSnapshot(built_at="none", payments=0)


def fake_dynamodb() -> FakeDynamoDB:
    return FakeDynamoDB(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})


def named(features: list[float]) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, features, strict=True))


class MemoryWorld:
    """Entity items as the training replay keeps them: dicts changed with `velocity.apply`."""

    def __init__(self) -> None:
        self.items: dict[str, Item] = {}

    def _apply(self, updates: list[Update]) -> None:
        for update in updates:
            self.items[update.key] = apply(self.items.get(update.key), update)

    def features(
        self,
        t: float,
        user: str = "u1",
        device: str = "d1",
        ip: str = "10.0.0.1",
        merchant: str = "m1",
        amount: float = 20.0,
        place: tuple[float, float] = MADRID,
        graph: GraphSnapshot = NO_GRAPH,
    ) -> dict[str, float]:
        """The features of a payment and the rules' signals, without recording it."""
        features = named(payment_features(user, device, ip, merchant, amount, t, *place, self.items, graph))
        return {**features, **rule_signals(device, t, self.items)}

    def pay(
        self,
        t: float,
        user: str = "u1",
        device: str = "d1",
        ip: str = "10.0.0.1",
        merchant: str = "m1",
        amount: float = 20.0,
        place: tuple[float, float] = MADRID,
    ) -> dict[str, float]:
        """Record a payment; returns its features (from the state just before it)."""
        before = self.features(t, user, device, ip, merchant, amount, place)
        self._apply(payment_updates(user, device, ip, merchant, amount, t, *place, self.items))
        return before

    def login(
        self,
        t: float,
        user: str = "u1",
        device: str = "d1",
        ip: str = "10.0.0.1",
        success: bool = True,
        place: tuple[float, float] = MADRID,
    ) -> None:
        self._apply(login_updates(user, device, ip, success, t, *place, self.items))

    def user(self, user: str = "u1") -> Item:
        return self.items[entity_key("user", user)]


class DynamoWorld:
    """The same events through serving's path: BatchGetItem via RiskStore.read, one UpdateItem per entity
    rendered by `update_request`, on the fake DynamoDB."""

    def __init__(self) -> None:
        self.ddb = fake_dynamodb()
        self.store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=self.ddb)

    def read(self, keys: list[str]) -> dict[str, Item]:
        states, _ = self.store.read(keys)
        return states

    def _write(self, updates: list[Update], states: Mapping[str, Item]) -> None:
        for update in updates:
            if not update.empty():
                self.ddb.update_item(**update_request(STATE_TABLE, update, states.get(update.key)))

    def pay(
        self,
        t: float,
        user: str,
        device: str,
        ip: str,
        merchant: str,
        amount: float,
        place: tuple[float, float],
    ) -> dict[str, float]:
        keys = [entity_key("user", user), entity_key("device", device), entity_key("ip", ip)]
        states = self.read([*keys, entity_key("merchant", merchant)])
        before = named(payment_features(user, device, ip, merchant, amount, t, *place, states, NO_GRAPH))
        before.update(rule_signals(device, t, states))
        self._write(payment_updates(user, device, ip, merchant, amount, t, *place, states), states)
        return before

    def login(self, t: float, user: str, device: str, ip: str, success: bool, place: tuple[float, float]) -> None:
        states = self.read([entity_key("user", user), entity_key("device", device), entity_key("ip", ip)])
        self._write(login_updates(user, device, ip, success, t, *place, states), states)

    def items(self) -> dict[str, Item]:
        """Every entity item, read back through RiskStore.read."""
        keys = [key[0] for key in self.ddb.tables[STATE_TABLE]]
        return self.read(keys) if keys else {}


def assert_same_item(served: Any, replayed: Any, where: str = "") -> None:
    """Equal items: same attributes and map entries, numbers equal up to decimal-vs-binary rounding
    (DynamoDB adds decimals; the replay adds floats)."""
    if isinstance(replayed, dict):
        assert isinstance(served, dict), where
        assert set(served) == set(replayed), f"{where}: {sorted(set(served) ^ set(replayed))}"
        for name in replayed:
            assert_same_item(served[name], replayed[name], f"{where}.{name}")
    elif isinstance(replayed, float | int):
        assert served == pytest.approx(replayed, rel=1e-12, abs=1e-9), where
    else:
        assert served == replayed, where

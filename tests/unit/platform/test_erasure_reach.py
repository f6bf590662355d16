"""The shop-wide erasure (`DELETE /users/{user_id}`, `commerce_ai.erasure`) reaches every store that holds a
user: a user with data in each of them is erased with nothing but `UserErasureFunction`'s configuration,
and afterwards no item anywhere holds their id, the hash the support tables index them by, or their
experiment keys; another user's data stays. Over in-memory DynamoDB laid out as template.yaml declares."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai.config import clear_cached_settings
from commerce_ai.erasure import erase, parts, user_hash
from commerce_ai.experiments import service as experiments
from commerce_ai.experiments.definitions import ArmSpec, ExperimentChange
from commerce_ai.experiments.store import user_key
from commerce_ai.propensity import service as propensity
from commerce_ai.propensity.profile import Profile
from commerce_ai.recommendations import store as recommendations
from commerce_ai.risk.settings import settings as risk_settings
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import entity_key, payment_updates
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.store import Conversations, Tickets
from infra.template import Stack
from tests.support.propensity import event
from tests.unit.fakes import FakeAws, FakeDynamoDB

STACK = Stack()
NOW = datetime.now(UTC).replace(microsecond=0)
GONE, KEPT = "u-gone", "u-kept"
CACHED = (propensity.store, experiments.store, experiments.definitions, recommendations.sessions)
# Every capability that keeps per-user data has an erasure part (a new one is added here with its data).
PARTS = {"experiments", "propensity", "recommendations", "risk", "support"}


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch, fake_aws: FakeAws) -> Iterator[FakeDynamoDB]:
    tables = {
        STACK.physical_name(logical_id): tuple(k["AttributeName"] for k in resource["Properties"]["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
    }
    indexes = {
        (STACK.physical_name(logical_id), index["IndexName"]): tuple(k["AttributeName"] for k in index["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
        for index in resource["Properties"].get("GlobalSecondaryIndexes", [])
    }
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=tables, index_schemas=indexes)
    for name, value in STACK.function("UserErasureFunction").environment.items():
        monkeypatch.setenv(name, value)  # what the function has is all the stores may use
    clear_cached_settings()
    for cached in CACHED:
        cached.cache_clear()
    yield fake_aws.dynamodb
    for cached in CACHED:
        cached.cache_clear()


def a_user_everywhere(user: str) -> None:
    """Data of `user` in every store that holds users, written by each capability's own code."""
    profile = Profile(user)
    profile.apply(event(f"{user}-p1", "purchase", NOW - timedelta(days=2), user=user, price=9.5))
    propensity.store().save(profile, None, time.time())
    recommendations.sessions().update(user, lambda state: state)
    conversation = ConversationState(
        conversation_id=f"c-{user}", user_id=user, channel="web", created_at=NOW, updated_at=NOW, expires_at=1
    )
    Conversations.from_settings().put(conversation, None)
    Tickets.from_settings().open({"ticket_id": f"t-{user}", "conversation_id": f"c-{user}", "user_id": user}, NOW)
    risk = RiskStore(risk_settings().need("risk_state_table"), risk_settings().need("risk_results_table"))
    keys = [entity_key("user", user), entity_key("device", "d-shared"), entity_key("ip", "10.0.0.1"), "merchant#m1"]
    states, _ = risk.read(keys)
    updates = payment_updates(user, "d-shared", "10.0.0.1", "m1", 20.0, NOW.timestamp(), 40.4, -3.7, states)
    result = {"score": 0.1, "user_id": user, "device_id": "d-shared", "ip": "10.0.0.1"}
    assert risk.claim_and_apply(f"tx-{user}", result, NOW, updates, states)
    experiments.store().record_exposure("checkout-test", "a", user, f"{user}-imp", NOW, NOW)


def traces(ddb: FakeDynamoDB, user: str) -> list[tuple[str, Any]]:
    """Every item, outside the erasure log, that holds the user's id, their hash or an experiment key of theirs."""
    marks = (user, user_hash(user), user_key("checkout-test", user))
    erasures = STACK.physical_name("UserErasuresTable")
    return [
        (table, item)
        for table, items in ddb.tables.items()
        if table != erasures
        for item in items.values()
        if any(mark in repr(item) for mark in marks)
    ]


def test_erasing_a_user_leaves_nothing_of_them_in_any_store_and_keeps_everyone_else(ddb: FakeDynamoDB) -> None:
    # Given a running experiment, and two users with data in every store that holds users
    arms = [ArmSpec(name="a", variant="old", weight=1.0), ArmSpec(name="b", variant="new", weight=1.0)]
    change = ExperimentChange(
        arms=arms, control="a", primary_metric="conversion", baseline_rate=0.1, minimum_detectable_effect=0.05
    )
    experiments.put("checkout-test", change, NOW)
    a_user_everywhere(GONE)
    a_user_everywhere(KEPT)
    assert set(parts()) == PARTS
    stores_with_gone = {table for table, _ in traces(ddb, GONE)}
    assert len(stores_with_gone) >= 6  # profiles, sessions, conversations, tickets, risk state and results, experiments
    # when one of them is erased
    removed = erase(GONE, NOW)
    # then every capability's part removed something, and no store holds a trace of them
    assert set(removed) == PARTS and all(removed[name] > 0 for name in PARTS), removed
    assert traces(ddb, GONE) == []
    # while the other user's data is all still there (their entry in the shared device's state included)
    assert {table for table, _ in traces(ddb, KEPT)} == stores_with_gone
    # and erasing again finds nothing more
    assert erase(GONE, NOW) == dict.fromkeys(PARTS, 0)

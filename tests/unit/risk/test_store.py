"""The risk DynamoDB adapter over in-memory DynamoDB (tests/unit/fakes.py evaluates the update, condition
and key expressions rather than trusting them): rendering velocity updates as UpdateItem calls, and the
reads and writes of the state and results tables.

The central guarantee tested here is that training and serving share one path: the same events applied
through `update_request` on DynamoDB and through `velocity.apply` in memory leave the same items and give
the same features."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_ai import dynamodb_batches
from commerce_ai.errors import NotFound
from commerce_ai.idempotency import KeyReused
from commerce_ai.risk import velocity
from commerce_ai.risk.store import (
    EVENT_MARKER_RETENTION,
    RECENT_SLOTS,
    RESULT_RETENTION,
    STATE_RETENTION,
    USER_INDEX,
    RiskStore,
    attribute,
    block_key,
    iso,
    plain,
    recent_slot,
    update_request,
)
from commerce_ai.risk.velocity import Update, entity_key, login_updates, payment_updates
from tests.unit.fakes import FakeDynamoDB, _holds, client_error
from tests.unit.risk.builders import (
    DAY,
    HOUR,
    LONDON,
    MADRID,
    MINUTE,
    MOSCOW,
    RESULTS_TABLE,
    STATE_TABLE,
    T0,
    DynamoWorld,
    MemoryWorld,
    assert_same_item,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
USER = entity_key("user", "u1")


class FilteringDynamoDB(FakeDynamoDB):
    """The fake plus Scan's FilterExpression, applied to each page after it is read, as DynamoDB does (a
    page may come back with fewer items than it read, even none, and still have a next page)."""

    def scan(  # type: ignore[override]
        self,
        TableName: str,
        FilterExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        page = super().scan(TableName, **kwargs)
        if FilterExpression is None:
            return page
        used: set[str] = set()
        condition = self._condition(FilterExpression, ExpressionAttributeNames, ExpressionAttributeValues, used)
        self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
        assert condition is not None
        items = [item for item in page["Items"] if _holds(condition, item)]
        return {**page, "Items": items, "Count": len(items)}


@pytest.fixture
def ddb() -> FilteringDynamoDB:
    return FilteringDynamoDB(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})


@pytest.fixture
def risk_store(ddb: FakeDynamoDB) -> Iterator[RiskStore]:
    store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    yield store
    store._writers.shutdown()


def state(ddb: FakeDynamoDB, key: str) -> dict[str, Any]:
    return {k: plain(v) for k, v in ddb.tables[STATE_TABLE][(key,)].items()}


# ----------------------------------------------------------------------------------- update_request


def test_an_update_of_a_new_item_adds_counters_sets_values_and_writes_maps_whole() -> None:
    # Given a user's first payment
    update = payment_updates("u1", "d1", "10.0.0.1", "m1", 25.0, T0, *MADRID, {})[0]
    request = update_request(STATE_TABLE, update, None)
    # then counters are ADDs and scalars and the (missing) maps are SET whole: no map-entry paths
    expression = request["UpdateExpression"]
    assert expression.startswith("SET ") and " ADD " in expression and "REMOVE" not in expression
    assert "." not in expression
    assert request["Key"] == {"entity": {"S": USER}} and request["TableName"] == STATE_TABLE
    values = request["ExpressionAttributeValues"]
    assert {"M": {"d1": {"N": repr(T0)}}} in values.values()
    assert {"M": {"10.0.0.1": {"N": repr(T0)}}} in values.values()
    # and DynamoDB creates the item the replay would hold
    ddb = DynamoWorld().ddb
    ddb.update_item(**request)
    assert_same_item({k: v for k, v in state(ddb, USER).items() if k != "entity"}, velocity.apply(None, update))


def test_an_update_of_an_existing_map_sets_and_removes_single_entries() -> None:
    # Given a device that knows two users, one of them not seen for over a week
    item = {"usr": {"old": T0, "u1": T0 + 7 * DAY}}
    update = Update(entity_key("device", "d1"), put_in={"usr": {"u2": T0 + 8 * DAY}}, remove_in={"usr": {"old"}})
    request = update_request(STATE_TABLE, update, item)
    names = request["ExpressionAttributeNames"]
    # then one entry is set and one removed, by map-entry path; the map itself is not replaced
    set_part, remove_part = request["UpdateExpression"].removeprefix("SET ").split(" REMOVE ")
    parent, child = set_part.split(" = ")[0].split(".")
    assert (names[parent], names[child]) == ("usr", "u2")
    parent, child = remove_part.split(".")
    assert (names[parent], names[child]) == ("usr", "old")


def test_an_entry_removed_and_set_again_in_one_update_is_only_set() -> None:
    # Given a device whose user u1 went stale and comes back (forgotten and remembered by one update)
    existing = {"usr": {"u1": T0, "other": T0}}
    update = Update("device#d1", put_in={"usr": {"u1": T0 + 9 * DAY}}, remove_in={"usr": {"u1", "other"}})
    request = update_request(STATE_TABLE, update, existing)
    # then u1 is set and only the other user removed (DynamoDB refuses two actions on one path)
    names = request["ExpressionAttributeNames"]
    removed = request["UpdateExpression"].split(" REMOVE ")[1].split(", ")
    assert [names[path.split(".")[1]] for path in removed] == ["other"]
    ddb = DynamoWorld().ddb
    ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": "device#d1"}, "usr": attribute(existing["usr"])})
    ddb.update_item(**request)
    assert state(ddb, "device#d1")["usr"] == {"u1": T0 + 9 * DAY}


def test_removals_from_a_map_that_does_not_exist_are_left_out() -> None:
    update = Update("device#d1", remove_in={"usr": {"gone"}}, remove={"n_m1"})
    request = update_request(STATE_TABLE, update, {"n_m1": 1.0})
    assert request["UpdateExpression"] == "REMOVE #n0"
    assert request["ExpressionAttributeNames"] == {"#n0": "n_m1"}
    assert "ExpressionAttributeValues" not in request  # DynamoDB refuses an empty map of values


def test_attribute_and_plain_round_trip() -> None:
    value = {"n": 1.5, "s": "d1", "flag": True, "nothing": None, "map": {"a": 2.0}, "int": 3}
    encoded = attribute(value)
    assert encoded["M"]["flag"] == {"BOOL": True}
    assert encoded["M"]["int"] == {"N": "3.0"}
    assert plain(encoded) == {**value, "int": 3.0}
    assert plain({"L": [{"N": "1"}, {"S": "x"}]}) == [1.0, "x"]
    assert attribute(0.1 + 0.2) == {"N": repr(0.1 + 0.2)}  # every digit of the float is kept


def test_iso_timestamps_sort_in_time_order() -> None:
    earlier = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    later = datetime(2026, 1, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso(earlier) == "2026-01-01T09:00:00.000Z"
    assert iso(later) == "2026-01-01T08:00:00.000Z"
    assert iso(later) < iso(earlier)


# ------------------------------------------------------------------- one path: DynamoDB agrees with memory


def updates_for(world: MemoryWorld, kind: str, t: float, ids: dict[str, Any]) -> list[Update]:
    place: tuple[float, float] = ids.get("place", MADRID)
    if kind == "payment":
        merchant, amount = ids.get("merchant", "m1"), ids.get("amount", 20.0)
        return payment_updates(ids["user"], ids["device"], ids["ip"], merchant, amount, t, *place, world.items)
    return login_updates(ids["user"], ids["device"], ids["ip"], kind == "login", t, *place, world.items)


def both(world: MemoryWorld, served: DynamoWorld, kind: str, t: float, **ids: Any) -> None:
    """One event through both paths; for a payment, both must give the same features."""
    place = ids.pop("place", MADRID)
    if kind == "payment":
        user, device, ip, merchant = ids["user"], ids["device"], ids["ip"], ids.get("merchant", "m1")
        amount = ids.get("amount", 20.0)
        replayed = world.pay(t, user, device, ip, merchant, amount, place)
        from_dynamodb = served.pay(t, user, device, ip, merchant, amount, place)
        assert from_dynamodb == pytest.approx(replayed, rel=1e-9, abs=1e-9)
    else:
        world.login(t, ids["user"], ids["device"], ids["ip"], kind == "login", place)
        served.login(t, ids["user"], ids["device"], ids["ip"], kind == "login", place)


def assert_same_state(world: MemoryWorld, served: DynamoWorld) -> None:
    assert_same_item(served.items(), world.items)


def test_a_scripted_history_leaves_the_same_items_on_both_paths() -> None:
    # Given one history that exercises every kind of update: first sight, repeat visits, bucket pruning,
    # map eviction past the caps, stale users forgotten, failed and successful logins, a session
    world, served = MemoryWorld(), DynamoWorld()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(velocity, "MAX_KNOWN", 3)
        patch.setattr(velocity, "MAX_USERS", 2)
        t = T0
        ids = {"user": "u1", "device": "d1", "ip": "10.0.0.1"}
        both(world, served, "payment", t, **ids, amount=12.34)
        both(world, served, "payment", t + MINUTE, **ids, amount=0.1)
        both(world, served, "failed", t + 2 * MINUTE, **ids)
        for i in range(5):  # devices and IPs past MAX_KNOWN, users past MAX_USERS on d1
            both(world, served, "payment", t + i * HOUR, user=f"u{i}", device=f"d{i % 4}", ip=f"10.0.0.{i % 2}")
        both(world, served, "login", t + 3 * HOUR, user="u1", device="d9", ip="10.0.0.9", place=MOSCOW)
        both(world, served, "payment", t + 3 * HOUR + 5 * MINUTE, user="u1", device="d9", ip="10.0.0.9", place=MOSCOW)
        # nine days on: every bucket is stale and d1's and 10.0.0.1's users are forgotten
        both(world, served, "payment", t + 9 * DAY, user="u8", device="d1", ip="10.0.0.1", place=LONDON)
        both(world, served, "login", t + 9 * DAY + MINUTE, user="u7", device="d1", ip="10.0.0.1")
        both(world, served, "failed", t + 10 * DAY, user="u1", device="d1", ip="10.0.0.1")
        both(world, served, "payment", t + 10 * DAY, user="u2", device="d9", ip="10.0.0.1")
    # then every entity item is the same, attribute for attribute
    assert_same_state(world, served)
    assert len(world.items) > 10


def test_a_user_returning_to_a_device_after_a_week_is_remembered_again() -> None:
    # Given u1 paid on d1 from 10.0.0.1, and nobody else used them
    world, served = MemoryWorld(), DynamoWorld()
    ids = {"user": "u1", "device": "d1", "ip": "10.0.0.1"}
    both(world, served, "payment", T0, **ids)
    # when u1 comes back eight days later (u1 is stale on d1, forgotten and remembered by the same update,
    # which once left an unused name placeholder in the UpdateItem: a ValidationException)
    both(world, served, "payment", T0 + 8 * DAY, **ids)
    # then the device and the IP know u1 as seen now, on both paths
    assert_same_state(world, served)
    assert served.items()[entity_key("device", "d1")]["usr"] == {"u1": T0 + 8 * DAY}


EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["payment", "payment", "login", "failed"]),
        st.integers(0, 3),  # user
        st.integers(0, 4),  # device
        st.integers(0, 3),  # ip
        st.integers(0, 1),  # merchant
        st.sampled_from([0.01, 0.1, 0.2, 12.34, 99.99, 4_999.5]),
        st.sampled_from([0, 1, 59, 299, 300, 3_599, 3_600, 86_400, 3 * 86_400, 7 * 86_400 + 1, -600]),
        st.sampled_from([MADRID, LONDON, MOSCOW]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40)
@given(events=EVENTS)
def test_any_history_gives_the_same_items_and_features_on_both_paths(
    events: list[tuple[str, int, int, int, int, float, int, tuple[float, float]]],
) -> None:
    # Given random interleavings of payments and logins, some out of order (serving accepts timestamps
    # up to seven days old), with small map caps so evictions happen
    world, served = MemoryWorld(), DynamoWorld()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(velocity, "MAX_KNOWN", 2)
        patch.setattr(velocity, "MAX_USERS", 2)
        t = T0
        for kind, user, device, ip, merchant, amount, gap, place in events:
            t += gap
            ids = {"user": f"u{user}", "device": f"d{device}", "ip": f"10.0.0.{ip}", "place": place}
            both(world, served, kind, t, **ids, merchant=f"m{merchant}", amount=amount)
    # then both paths hold the same items (and gave the same features for every payment on the way)
    assert_same_state(world, served)


# ------------------------------------------------------------------------------------------- reads


def test_read_gets_entities_and_the_transaction_result_in_one_batch(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given a user and a device with state, and a stored result for t1
    ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": USER}, "n_m1": {"N": "2"}, "sd": {"S": "d1"}})
    ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": "device#d1"}, "usr": attribute({"u1": T0})})
    risk_store.claim("t1", {"score": 0.25, "decision": "approve"}, NOW)
    ddb.log.clear()
    # when they are read with an unknown IP, asking for t1's result
    states, result = risk_store.read([USER, "device#d1", "ip#10.0.0.1", USER], "t1")
    # then one BatchGetItem across both tables returns the known items as plain values, without their key
    assert [op for op, _ in ddb.log] == ["BatchGetItem", "BatchGetItem"]  # one call, logged per table
    assert states == {USER: {"n_m1": 2.0, "sd": "d1"}, "device#d1": {"usr": {"u1": T0}}}
    assert result is not None and result["score"] == 0.25 and result["decision"] == "approve"
    # and without a transaction, only the state table is read
    ddb.log.clear()
    states, result = risk_store.read([USER])
    assert result is None and [p["TableName"] for _, p in ddb.log] == [STATE_TABLE]


def test_read_without_a_stored_result_returns_none(risk_store: RiskStore) -> None:
    assert risk_store.read(["user#nobody"], "t-new") == ({}, None)


def test_throttled_reads_are_retried_until_complete(
    risk_store: RiskStore, ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(dynamodb_batches, "time", SimpleNamespace(sleep=pauses.append))
    keys = [entity_key("user", f"u{i}") for i in range(5)]
    for key in keys:
        ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": key}, "n_m1": {"N": "1"}})
    risk_store.claim("t1", {"score": 0.5}, NOW)
    # Given DynamoDB leaves half of each of the next three batches unprocessed
    ddb.throttle_batches = 3
    states, result = risk_store.read(keys, "t1")
    # then every item still arrives, after backing off between attempts
    assert set(states) == set(keys)
    assert result is not None and result["score"] == 0.5
    assert len(pauses) == 3 and pauses == sorted(pauses)


def test_reads_that_stay_throttled_fail_loudly(
    risk_store: RiskStore, ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_batches, "time", SimpleNamespace(sleep=lambda _: None))
    ddb.throttle_batches = 100
    with pytest.raises(RuntimeError, match="unprocessed"):
        risk_store.read([USER, "device#d1"])


# ------------------------------------------------------------------------------------------ results


def test_claim_stores_the_first_result_only(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given a first claim of t1
    assert risk_store.claim("t1", {"score": 0.1, "decision": "approve", "graph_version": None}, NOW) is True
    # when a duplicate claims it with another answer
    assert risk_store.claim("t1", {"score": 0.9, "decision": "decline"}, NOW) is False
    # then the first answer stays, None values are not stored, and it expires after the retention
    stored = risk_store.result("t1")
    assert (stored["score"], stored["decision"]) == (0.1, "approve")
    assert "graph_version" not in stored
    assert stored["expires_at"] == int((NOW + RESULT_RETENTION).timestamp())


def test_an_event_is_marked_with_its_digest_for_a_week_in_the_same_transaction_as_its_changes(
    risk_store: RiskStore, ddb: FakeDynamoDB
) -> None:
    changes = [Update(USER, add={"n_m1": 1})]
    assert risk_store.apply_event_once("e1", "digest-1", NOW, changes, {}) is None
    # a redelivery writes nothing and learns which request applied it
    assert risk_store.apply_event_once("e1", "digest-1", NOW + timedelta(hours=1), changes, {}) == "digest-1"
    expires = float(int((NOW + STATE_RETENTION).timestamp()))
    assert state(ddb, USER) == {"entity": USER, "n_m1": 1.0, "expires_at": expires}
    marker = {k: plain(v) for k, v in ddb.tables[RESULTS_TABLE][("event#e1",)].items()}
    assert (marker["kind"], marker["request_digest"]) == ("event", "digest-1")
    assert marker["expires_at"] == int((NOW + EVENT_MARKER_RETENTION).timestamp())


class ThrottledStateWrites(FakeDynamoDB):
    """State writes are throttled while `throttled` is set."""

    throttled = True

    def update_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.throttled and kwargs["TableName"] == STATE_TABLE:
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")
        return super().update_item(**kwargs)


def test_an_event_whose_changes_fail_leaves_no_mark_so_its_retry_applies_it() -> None:
    # Given the state write is throttled inside the transaction
    ddb = ThrottledStateWrites(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded"):
        store.apply_event_once("e1", "digest-1", NOW, [Update(USER, add={"n_m1": 1})], {})
    # then neither the mark nor the change landed
    assert ("event#e1",) not in ddb.tables.get(RESULTS_TABLE, {}) and (USER,) not in ddb.tables.get(STATE_TABLE, {})
    # and the retry applies it once
    ddb.throttled = False
    assert store.apply_event_once("e1", "digest-1", NOW, [Update(USER, add={"n_m1": 1})], {}) is None
    assert state(ddb, USER)["n_m1"] == 1.0


def test_other_claim_errors_propagate(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    ddb.fail_with = client_error("ProvisionedThroughputExceededException", "PutItem")
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        risk_store.claim("t1", {"score": 0.1}, NOW)


def test_result_of_an_unscored_transaction_is_not_found(risk_store: RiskStore) -> None:
    with pytest.raises(NotFound):
        risk_store.result("never")


def test_a_label_needs_a_scored_transaction(risk_store: RiskStore) -> None:
    # Given t1 is scored and e1 is only an event marker in the same table
    risk_store.claim("t1", {"score": 0.7, "decision": "review"}, NOW)
    risk_store.apply_event_once("e1", "digest", NOW, [], {})
    # then labelling an unknown transaction or an event marker is NotFound
    with pytest.raises(NotFound):
        risk_store.label("unknown", True, "chargeback", NOW, "d1")
    with pytest.raises(NotFound):
        risk_store.label("event#e1", True, "chargeback", NOW, "d1")
    # and labelling t1 records the label beside its score
    risk_store.label("t1", True, "chargeback", NOW + timedelta(days=20), "d1")
    stored = risk_store.result("t1")
    assert (stored["label_is_fraud"], stored["label_source"], stored["score"]) == (True, "chargeback", 0.7)
    assert stored["labelled_at"] == iso(NOW + timedelta(days=20))
    # a later label replaces it (a chargeback reversed after review)
    risk_store.label("t1", False, "manual_review", NOW + timedelta(days=30), "d2")
    assert risk_store.result("t1")["label_is_fraud"] is False


def test_a_resent_label_changes_nothing_and_a_stale_different_one_is_a_conflict(risk_store: RiskStore) -> None:
    risk_store.claim("t1", {"score": 0.7, "decision": "review"}, NOW)
    risk_store.label("t1", True, "chargeback", NOW + timedelta(days=20), "d1")
    # the same label resent later (its time defaulted to "now") keeps the first one's time
    risk_store.label("t1", True, "chargeback", NOW + timedelta(days=21), "d1")
    assert risk_store.result("t1")["labelled_at"] == iso(NOW + timedelta(days=20))
    # a different label that is not later cannot flip it: 409 naming the transaction id
    with pytest.raises(KeyReused, match="transaction_id 't1' already has a label from a different request"):
        risk_store.label("t1", False, "other", NOW + timedelta(days=20), "d2")
    assert risk_store.result("t1")["label_is_fraud"] is True


def test_mark_published(risk_store: RiskStore) -> None:
    risk_store.claim("t1", {"score": 0.9}, NOW)
    risk_store.mark_published("t1")
    assert risk_store.result("t1")["published"] is True


def test_block_and_unblock_an_entity(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given a user with velocity state
    ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": USER}, "n_m1": {"N": "2"}})
    # when it is blocked, the block is an item of its own, and reads show its reason with the state
    risk_store.block(USER, "chargeback ring")
    assert state(ddb, USER) == {"entity": USER, "n_m1": 2.0}
    assert state(ddb, block_key(USER)) == {"entity": block_key(USER), "blocked": "chargeback ring"}
    assert risk_store.read([USER])[0] == {USER: {"n_m1": 2.0, "blocked": "chargeback ring"}}
    assert risk_store.blocked(10, None) == ([(USER, "chargeback ring")], None)
    # and unblocking removes only the block
    risk_store.block(USER, None)
    assert set(ddb.tables[STATE_TABLE]) == {(USER,)}
    assert risk_store.read([USER])[0] == {USER: {"n_m1": 2.0}}
    # an entity never seen can be blocked too
    risk_store.block("ip#10.6.6.6", "abuse")
    assert risk_store.read(["ip#10.6.6.6"])[0] == {"ip#10.6.6.6": {"blocked": "abuse"}}


def test_a_blocked_attribute_on_a_state_item_is_not_a_block(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given a state item carrying `blocked` itself (the form before blocks became their own items, which
    # expired with the state and so could lift a block): nothing was deployed in it, so nothing reads it
    ddb.put_item(TableName=STATE_TABLE, Item={"entity": {"S": USER}, "n_m1": {"N": "2"}, "blocked": {"S": "old"}})
    # then scoring does not see the entity as blocked, and the block list does not list it
    assert risk_store.read([USER])[0] == {USER: {"n_m1": 2.0}}
    assert risk_store.blocked(10, None) == ([], None)
    # while its own block item is what blocks it
    risk_store.block(USER, "chargeback ring")
    assert risk_store.read([USER])[0] == {USER: {"n_m1": 2.0, "blocked": "chargeback ring"}}
    assert risk_store.blocked(10, None) == ([(USER, "chargeback ring")], None)


def expire(ddb: FakeDynamoDB, table: str, at: datetime) -> None:
    """What DynamoDB's TTL does: items whose `expires_at` has passed are deleted."""
    for key, item in list(ddb.tables[table].items()):
        if "expires_at" in item and float(item["expires_at"]["N"]) <= at.timestamp():
            del ddb.tables[table][key]


def test_every_state_write_refreshes_the_items_expiry_and_blocks_never_expire(
    risk_store: RiskStore, ddb: FakeDynamoDB
) -> None:
    # Given a payment's state written now, and its device blocked
    risk_store.apply(payment_updates("u1", "d1", "10.0.0.1", "m1", 5.0, T0, *MADRID, {}), {}, NOW)
    risk_store.block("device#d1", "stolen phone")
    # then each entity item (device ids, IPs, places) carries expires_at STATE_RETENTION ahead, as an
    # integer, and the block's item carries none
    for key in (USER, "device#d1", "ip#10.0.0.1", "merchant#m1"):
        assert ddb.tables[STATE_TABLE][(key,)]["expires_at"] == {"N": str(int((NOW + STATE_RETENTION).timestamp()))}
    assert "expires_at" not in ddb.tables[STATE_TABLE][(block_key("device#d1"),)]
    # when the user pays again later, the user's expiry moves on with the write
    later = NOW + timedelta(days=60)
    states, _ = risk_store.read([USER])
    risk_store.apply(payment_updates("u1", "d2", "10.0.0.2", "m1", 5.0, T0 + 60 * DAY, *MADRID, states), states, later)
    assert state(ddb, USER)["expires_at"] == int((later + STATE_RETENTION).timestamp())
    # and once the device's retention has passed, its state is gone but its block still declines it
    expire(ddb, STATE_TABLE, NOW + STATE_RETENTION + timedelta(seconds=1))
    assert (("device#d1",) not in ddb.tables[STATE_TABLE]) and ((USER,) in ddb.tables[STATE_TABLE])
    assert risk_store.read(["device#d1"])[0] == {"device#d1": {"blocked": "stolen phone"}}
    assert risk_store.blocked(10, None)[0] == [("device#d1", "stolen phone")]


def test_an_account_events_changes_refresh_the_expiry_too(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    updates = login_updates("u1", "d1", "10.0.0.1", True, T0, *MADRID, {})
    assert risk_store.apply_event_once("e1", "digest", NOW, updates, {}) is None
    expected = {"N": str(int((NOW + STATE_RETENTION).timestamp()))}
    assert all(ddb.tables[STATE_TABLE][(k,)]["expires_at"] == expected for k in (USER, "device#d1", "ip#10.0.0.1"))


def test_erasing_a_user_removes_their_state_their_place_in_shared_state_and_their_transactions() -> None:
    # Given u1 and u2 paying with one device, u1 also declined from another device (not made known to u1)
    ddb = FakeDynamoDB(
        key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)},
        index_schemas={(RESULTS_TABLE, USER_INDEX): ("user_id",)},
    )
    store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    payments = [
        ("t1", "u1", "d1", "10.0.0.1", True),
        ("t2", "u2", "d1", "10.0.0.2", True),
        ("t3", "u1", "d9", "10.0.0.9", False),
    ]
    for transaction, user, device, ip, trusted in payments:
        keys = [entity_key("user", user), entity_key("device", device), entity_key("ip", ip), "merchant#m1"]
        states, _ = store.read(keys)
        updates = payment_updates(user, device, ip, "m1", 5.0, T0, *MADRID, states, trusted=trusted)
        result = {"score": 0.1, "user_id": user, "device_id": device, "ip": ip}
        assert store.claim_and_apply(transaction, result, NOW, updates, states)
    store.block("user#u1", "chargeback")
    # when u1 is erased
    # (its own item; its entry in d1, 10.0.0.1, d9 and 10.0.0.9, the last two found through t3; t1 and t3)
    assert store.erase_user("u1") == 1 + 4 + 2
    # then no item but the admin's block names u1, and u2's data is untouched
    left = [item for table in ddb.tables.values() for item in table.values() if "u1" in repr(item)]
    assert left == [{"entity": {"S": "block#user#u1"}, "blocked": {"S": "chargeback"}}]
    assert set(ddb.tables[RESULTS_TABLE]) == {("t2",)}
    assert store.read(["device#d1"])[0]["device#d1"]["usr"].keys() == {"u2"}
    assert store.erase_user("u1") == 0  # safe to repeat
    store._writers.shutdown()


def test_scored_pages_through_scored_transactions_since_a_time(risk_store: RiskStore) -> None:
    # Given ten scored transactions an hour apart, and event markers without a score
    for i in range(10):
        risk_store.claim(f"t{i:02}", {"score": i / 10, "timestamp": iso(NOW + timedelta(hours=i))}, NOW)
    for i in range(4):
        risk_store.apply_event_once(f"e{i}", "digest", NOW, [], {})
    # when the weekly job asks for those from the fourth hour on
    found = list(risk_store.scored(NOW + timedelta(hours=4)))
    # then every one of them comes back across the pages, and nothing else
    assert sorted(item["transaction_id"] for item in found) == [f"t{i:02}" for i in range(4, 10)]
    assert list(risk_store.scored(NOW + timedelta(days=1))) == []


def test_apply_sends_one_update_per_entity_that_changes(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    updates = [*payment_updates("u1", "d1", "10.0.0.1", "m1", 5.0, T0, *MADRID, {}), Update("user#idle")]
    risk_store.apply(updates, {}, NOW)
    assert sorted(p["TableName"] for op, p in ddb.log if op == "UpdateItem") == [STATE_TABLE] * 4
    assert set(ddb.tables[STATE_TABLE]) == {(USER,), ("device#d1",), ("ip#10.0.0.1",), ("merchant#m1",)}


class LandedThenRetried(FakeDynamoDB):
    """The first PutItem lands, but the SDK's retry of it (after a read timeout) fails its condition."""

    def put_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        super().put_item(**kwargs)
        raise client_error("ConditionalCheckFailedException", "PutItem")


def test_a_claim_whose_first_attempt_landed_is_still_ours() -> None:
    ddb = LandedThenRetried(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    try:
        assert store.claim("t1", {"score": 0.1}, datetime(2026, 11, 28, tzinfo=UTC)) is True
    finally:
        store._writers.shutdown()


def test_a_claim_held_by_a_duplicate_is_not_ours(risk_store: RiskStore) -> None:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert risk_store.claim("t1", {"score": 0.1}, now) is True
    assert risk_store.claim("t1", {"score": 0.9}, now) is False


# ------------------------------------------------------------- counting a payment once per entity


class RetriedAfterLanding(FakeDynamoDB):
    """Every UpdateItem lands, its answer is lost (a read timeout) and the SDK sends the same request again:
    the caller sees the retry's outcome, as botocore's retries do."""

    def update_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        super().update_item(**kwargs)
        return super().update_item(**kwargs)


class FailsOnce(FakeDynamoDB):
    """The first UpdateItem of one entity fails (a throttle after the SDK's retries), the others land."""

    def __init__(self, failing: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.failing = failing

    def update_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if kwargs["Key"].get("entity", {}).get("S") == self.failing:
            self.failing = ""
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")
        return super().update_item(**kwargs)


def _payment(store: RiskStore, transaction: str, digest: str = "r1", user: str = "u1") -> tuple[bool, list[Update]]:
    keys = [entity_key("user", user), "device#d1", "ip#10.0.0.1", "merchant#m1"]
    states, _ = store.read(keys)
    updates = payment_updates(user, "d1", "10.0.0.1", "m1", 5.0, T0, *MADRID, states)
    return store.claim_and_apply(transaction, {"score": 0.1, "request_digest": digest}, NOW, updates, states), updates


def _counters(ddb: FakeDynamoDB, updates: list[Update]) -> dict[str, dict[str, float]]:
    """Each entity's counters that `updates` increments, as stored (0 where absent)."""
    out = {}
    for u in updates:
        item = state(ddb, u.key) if (u.key,) in ddb.tables[STATE_TABLE] else {}
        out[u.key] = {k: float(item.get(k, 0.0)) for k in u.add}
    return out


def _once(updates: list[Update], times: float = 1.0) -> dict[str, dict[str, float]]:
    return {u.key: {k: v * times for k, v in u.add.items()} for u in updates}


def _store(ddb: FakeDynamoDB) -> RiskStore:
    return RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)


def test_the_sdks_retry_of_a_counter_update_that_landed_does_not_count_the_payment_twice() -> None:
    # Given every state write whose answer is lost after it landed, and retried by the SDK
    ddb = RetriedAfterLanding(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    store = _store(ddb)
    try:
        # when a payment is scored
        claimed, updates = _payment(store, "t1")
        # then it counts once in every entity (the retry was refused by the transaction's slot), and the
        # call is not taken for a duplicate
        assert claimed and _counters(ddb, updates) == _once(updates)
        slot, seen = recent_slot("t1")
        assert all(state(ddb, u.key)[slot] == seen for u in updates)
    finally:
        store._writers.shutdown()


def test_a_duplicate_of_the_same_payment_counts_nothing_whichever_write_lands_first(
    risk_store: RiskStore, ddb: FakeDynamoDB
) -> None:
    # Given a duplicate whose state writes landed before the first delivery's (it lost the claim later)
    keys = ["user#u1", "device#d1", "ip#10.0.0.1", "merchant#m1"]
    states, _ = risk_store.read(keys)
    updates = payment_updates("u1", "d1", "10.0.0.1", "m1", 5.0, T0, *MADRID, states)
    landed, failure = risk_store._write(updates, states, NOW, "t1")
    assert failure is None and len(landed) == 4
    # when the first delivery claims and writes (its writes refused: the entities hold t1)
    assert risk_store.claim_and_apply("t1", {"score": 0.1, "request_digest": "r1"}, NOW, updates, states)
    # and another duplicate loses the claim
    assert not _payment(risk_store, "t1")[0]
    # then the payment counted once, and the duplicates left what they wrote
    assert _counters(ddb, updates) == _once(updates)


def test_another_request_under_a_claimed_id_takes_back_what_it_wrote(risk_store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given t1 scored for u1
    assert _payment(risk_store, "t1", user="u1")[0]
    # when a different request (another user) under t1 loses the claim
    claimed, updates = _payment(risk_store, "t1", digest="other", user="u2")
    # then u2's counters are back at 0 and its slot is clear, while the shared entities still count t1 once
    assert not claimed
    slot, _ = recent_slot("t1")
    assert _counters(ddb, updates[:1]) == _once(updates[:1], 0.0) and slot not in state(ddb, "user#u2")
    assert _counters(ddb, updates[1:]) == _once(updates[1:])


def test_a_failed_state_write_gives_back_the_rest_and_the_retry_counts_once() -> None:
    # Given the device's counter update failing once, the other three landing
    ddb = FailsOnce("device#d1", key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    store = _store(ddb)
    try:
        with pytest.raises(ClientError):
            _payment(store, "t1")
        # then nothing stays counted, no slot holds t1, and the claim is given back
        slot, _ = recent_slot("t1")
        keys = ["user#u1", "device#d1", "ip#10.0.0.1", "merchant#m1"]
        assert all(slot not in state(ddb, k) for k in keys if (k,) in ddb.tables[STATE_TABLE])
        assert ("t1",) not in ddb.tables[RESULTS_TABLE]
        # and the retry counts the payment once everywhere
        claimed, updates = _payment(store, "t1")
        assert claimed and _counters(ddb, updates) == _once(updates)
    finally:
        store._writers.shutdown()


def test_an_undo_retried_after_it_landed_takes_back_once() -> None:
    ddb = RetriedAfterLanding(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    store = _store(ddb)
    try:
        claimed, updates = _payment(store, "t1")
        assert claimed
        store._take_back(updates, "t1")
        assert _counters(ddb, updates) == _once(updates, 0.0)
    finally:
        store._writers.shutdown()


def test_the_slots_stay_few_and_small() -> None:
    slots = {recent_slot(f"t{i}")[0] for i in range(2000)}
    assert len(slots) == RECENT_SLOTS and all(len(recent_slot(f"t{i}")[1]) == 12 for i in range(10))

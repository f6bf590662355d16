"""Scoring payments and applying login events with the real `risk-model` and `risk-graph` artifacts
(trained once per session on a small simulated world, tests/support/risk.py) over in-memory DynamoDB:
idempotency, block lists, rules, reasons, timestamp limits, event de-duplication, and that the serving
path computes the very features the training replay computes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import pytest

from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.idempotency import KeyReused
from commerce_ai.risk.features import FEATURE_NAMES, VELOCITY_FEATURES
from commerce_ai.risk.graph import GraphSnapshot
from commerce_ai.risk.model import GRAPH_NAME, MODEL_NAME, RiskModel, open_graph, open_risk_model
from commerce_ai.risk.schemas import AccountEvent, Transaction
from commerce_ai.risk.scoring import Scored, record_account_event, score_transaction
from commerce_ai.risk.store import RiskStore
from commerce_ai.risk.velocity import Item, entity_key, window_total
from model_build import manifest_for
from model_build.risk.dataset import replay
from model_build.risk.simulator import SimulatorConfig, simulate
from tests.support.risk import built_risk
from tests.unit.fakes import UNIT_PSEUDONYM_KEY, FakeDynamoDB, client_error
from tests.unit.risk.builders import MADRID, MOSCOW, RESULTS_TABLE, STATE_TABLE, fake_dynamodb

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
T = TypeVar("T")
Models = tuple[LoadedModel[RiskModel], LoadedModel[GraphSnapshot]]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    """The production pipeline's artifacts on a small world, opened as ModelLoader opens them (~4 s)."""
    built = {b.name: b for b in built_risk(tmp_path_factory.mktemp("risk-artifacts"))}
    model, graph = built[MODEL_NAME], built[GRAPH_NAME]
    model_manifest, graph_manifest = manifest_for(model, "m-v1"), manifest_for(graph, "g-v1")
    return (
        LoadedModel(
            MODEL_NAME, "m-v1", model_manifest, open_risk_model(model_manifest, model.directory), model.directory
        ),
        LoadedModel(
            GRAPH_NAME,
            "g-v1",
            graph_manifest,
            open_graph(graph_manifest, graph.directory).with_key(UNIT_PSEUDONYM_KEY.encode()),  # as service.graph()
            graph.directory,
        ),
    )


@pytest.fixture
def ddb() -> FakeDynamoDB:
    return fake_dynamodb()


@pytest.fixture
def store(ddb: FakeDynamoDB) -> Iterator[RiskStore]:
    risk_store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    yield risk_store
    risk_store._writers.shutdown()


def txn(
    transaction_id: str = "t1",
    user: str = "u1",
    device: str = "d1",
    ip: str = "10.0.0.1",
    merchant: str = "m1",
    amount: float = 25.0,
    at: datetime = NOW,
    place: tuple[float, float] = MADRID,
) -> Transaction:
    return Transaction.model_validate(
        {
            "transaction_id": transaction_id,
            "user_id": user,
            "device_id": device,
            "ip": ip,
            "merchant_id": merchant,
            "amount": amount,
            "currency": "USD",
            "timestamp": at,
            "location": {"lat": place[0], "lon": place[1]},
        }
    )


def login(
    user: str = "u1",
    device: str = "d1",
    ip: str = "10.0.0.1",
    success: bool = True,
    at: datetime = NOW,
    place: tuple[float, float] = MADRID,
) -> AccountEvent:
    return AccountEvent.model_validate(
        {
            "event_type": "login",
            "user_id": user,
            "device_id": device,
            "ip": ip,
            "timestamp": at,
            "location": {"lat": place[0], "lon": place[1]},
            "success": success,
        }
    )


def score(
    transaction: Transaction, store: RiskStore, models: Models, now: datetime = NOW, graph: bool = True
) -> Scored:
    return score_transaction(transaction, store, models[0], models[1] if graph else None, now, "api")


def user_state(store: RiskStore, user: str = "u1") -> Item:
    states, _ = store.read([entity_key("user", user)])
    return states.get(entity_key("user", user), {})


def stored_features(store: RiskStore, transaction_id: str) -> dict[str, float]:
    values = [float(v) for v in str(store.result(transaction_id)["features"]).split()]
    return dict(zip(FEATURE_NAMES, values, strict=True))


# ------------------------------------------------------------------------------------------ scoring


def test_a_payment_is_scored_recorded_and_counted(store: RiskStore, models: Models) -> None:
    # When a first payment is scored
    scored = score(txn(), store, models)
    # then it gets a probability, a decision, the versions that made it, and is not a replay
    assert 0.0 <= scored.score <= 1.0
    assert scored.decision in ("approve", "review", "decline")
    assert (scored.model_version, scored.graph_version, scored.replayed) == ("m-v1", "g-v1", False)
    # the result is stored with everything the weekly job and the labels need
    stored = store.result("t1")
    assert stored["score"] == scored.score and stored["decision"] == scored.decision
    assert (stored["user_id"], stored["merchant_id"], stored["amount"], stored["channel"]) == ("u1", "m1", 25.0, "api")
    assert stored["timestamp"] == "2026-01-20T12:00:00.000Z"
    assert len(stored_features(store, "t1")) == len(FEATURE_NAMES)
    # and it counts in the user's velocity
    assert window_total(user_state(store), "n", "1h", NOW.timestamp()) == 1
    response = scored.response()
    assert response["transaction_id"] == "t1" and response["replayed"] is False
    assert response["reasons"] == scored.reasons and response["score"] == round(scored.score, 6)


def test_a_retried_transaction_gets_its_first_answer_and_counts_once(
    store: RiskStore, ddb: FakeDynamoDB, models: Models
) -> None:
    # Given t1 was scored, and then the user paid again (so t1 would now score differently)
    first = score(txn("t1"), store, models)
    score(txn("t2", amount=900.0, at=NOW + timedelta(minutes=1)), store, models, now=NOW + timedelta(minutes=1))
    # when t1 is retried
    again = score(txn("t1"), store, models, now=NOW + timedelta(minutes=2))
    # then the answer is the first one, marked as a replay
    assert again.replayed is True
    assert (again.score, again.decision, again.reasons, again.model_version, again.graph_version) == (
        first.score,
        first.decision,
        first.reasons,
        first.model_version,
        first.graph_version,
    )
    # and t1 counted once: two payments in the user's hour, not three; the result was written once
    assert window_total(user_state(store), "n", "1h", (NOW + timedelta(minutes=2)).timestamp()) == 2
    assert [p["Item"]["transaction_id"]["S"] for p in ddb.puts] == ["t1", "t2"]


class LateReadStore(RiskStore):
    """A store whose reads miss the transaction's result, as when a concurrent duplicate read it before the
    first request stored its answer."""

    def read(self, entity_keys: Any, transaction_id: str | None = None) -> tuple[dict[str, Item], Item | None]:
        states, _ = super().read(entity_keys, transaction_id)
        return states, None


def test_a_concurrent_duplicate_gets_the_winners_answer_and_does_not_count(ddb: FakeDynamoDB, models: Models) -> None:
    racing = LateReadStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    try:
        first = score(txn("t1"), racing, models)
        # when a duplicate that did not see the stored answer loses the claim
        duplicate = score(txn("t1"), racing, models)
        # then it returns the winner's answer, and the payment counted once
        assert duplicate.replayed and (duplicate.score, duplicate.decision) == (first.score, first.decision)
        # and a different payment under the same id that loses the claim is refused, counting nothing
        with pytest.raises(KeyReused):
            score(txn("t1", amount=99.0), racing, models)
        assert window_total(user_state(racing), "n", "1h", NOW.timestamp()) == 1
        assert window_total(user_state(racing), "v", "1h", NOW.timestamp()) == 25.0
    finally:
        racing._writers.shutdown()


@pytest.mark.parametrize(
    ("kind", "key"),
    [("user", "user#u1"), ("device", "device#d1"), ("ip", "ip#10.0.0.1"), ("merchant", "merchant#m1")],
)
def test_a_blocked_entity_declines_with_a_blocklist_reason(
    store: RiskStore, models: Models, kind: str, key: str
) -> None:
    # Given an admin blocked one of the payment's entities
    store.block(key, "confirmed fraud")
    # when an ordinary payment is scored
    scored = score(txn(), store, models)
    # then it is declined, the block list first among the reasons, with the admin's reason
    assert scored.decision == "decline"
    assert scored.reasons[0]["type"] == "rule" and scored.reasons[0]["name"] == f"blocklist_{kind}"
    assert "confirmed fraud" in scored.reasons[0]["detail"]
    # and once unblocked, the same payment pattern is not declined by a rule
    store.block(key, None)
    again = score(txn("t2", at=NOW + timedelta(minutes=1)), store, models, now=NOW + timedelta(minutes=1))
    assert not [r for r in again.reasons if r["type"] == "rule" and r["name"].startswith("blocklist")]


def test_an_amount_above_the_hard_limit_is_declined(store: RiskStore, models: Models) -> None:
    scored = score(txn(amount=25_000.0), store, models)
    assert scored.decision == "decline"
    assert {"type": "rule", "name": "amount_hard_limit", "outcome": "decline"}.items() <= scored.reasons[0].items()


def test_a_card_testing_burst_is_declined(store: RiskStore, models: Models) -> None:
    # Given seven tiny payments from one device within ten minutes, on several cards and accounts
    for i in range(7):
        at = NOW + timedelta(minutes=i)
        score(txn(f"t{i}", user=f"tester{i % 2}", amount=1.0, at=at), store, models, now=at)
    # when the eighth comes
    at = NOW + timedelta(minutes=9)
    scored = score(txn("t8", user="tester0", amount=1.5, at=at), store, models, now=at)
    # then the burst rule declines it
    assert scored.decision == "decline"
    assert "card_testing_burst" in [r["name"] for r in scored.reasons if r["type"] == "rule"]
    assert stored_features(store, "t8")["device_payments_1h"] == 7


def test_a_tiny_payment_after_large_ones_is_not_called_card_testing(store: RiskStore, models: Models) -> None:
    # Issue 19: after four payments of 12.50 and four tiny ones from a device, a payment of 0.001 made 9
    # payments in the hour, but only 5 of at most 5.00: the burst rule must not fire.
    for i in range(8):
        at = NOW + timedelta(minutes=i)
        score(txn(f"t{i}", amount=12.5 if i < 4 else 1.0, at=at), store, models, now=at)
    at = NOW + timedelta(minutes=9)
    scored = score(txn("t9", amount=0.001, at=at), store, models, now=at)
    assert "card_testing_burst" not in [r["name"] for r in scored.reasons if r["type"] == "rule"]
    # and three more tiny ones make eight small payments: now it fires, and says so truly
    for i in range(10, 13):
        at = NOW + timedelta(minutes=i)
        scored = score(txn(f"t{i}", amount=0.5, at=at), store, models, now=at)
    burst = [r for r in scored.reasons if r["type"] == "rule" and r["name"] == "card_testing_burst"]
    assert burst and burst[0]["detail"].startswith("8 payments of 5 or less")


def test_impossible_travel_on_a_new_device_is_at_least_reviewed(store: RiskStore, models: Models) -> None:
    # Given a payment in Madrid, then 40 minutes later a login from Moscow on a device never seen
    score(txn("t1"), store, models)
    at_login = NOW + timedelta(minutes=40)
    assert record_account_event(login(device="d9", ip="10.9.9.9", at=at_login, place=MOSCOW), store, at_login, "e1")
    # when the user pays on that device
    at = NOW + timedelta(minutes=45)
    scored = score(txn("t2", device="d9", ip="10.9.9.9", at=at, place=MOSCOW), store, models, now=at)
    # then the session's impossible speed reaches the payment and the rule asks for a review
    features = stored_features(store, "t2")
    assert features["session_speed_kmh"] > 1000 and features["session_new_device"] == 1
    assert "impossible_travel_new_device" in [r["name"] for r in scored.reasons]
    assert scored.decision in ("review", "decline")


def test_feature_reasons_are_features_that_raised_the_score(store: RiskStore, models: Models) -> None:
    # Given a risky payment: a stranger's large payment at night on a fresh device, far from their history
    score(txn("t0", amount=15.0), store, models)
    at = NOW + timedelta(minutes=3)
    scored = score(txn("t1", device="d7", ip="10.7.7.7", amount=4_900.0, at=at, place=MOSCOW), store, models, now=at)
    features = stored_features(store, "t1")
    model_score, top = models[0].model.score(list(features.values()))
    feature_reasons = [r for r in scored.reasons if r["type"] == "feature"]
    # then there are at most three, each a feature whose reference value lowers the score
    assert feature_reasons, "a risky payment should have reasons"
    assert len(feature_reasons) <= 3
    for reason in feature_reasons:
        assert reason["name"] in FEATURE_NAMES
        assert reason["contribution"] > 0
        assert reason["value"] == pytest.approx(features[reason["name"]], rel=1e-4, abs=1e-4)
    # they are the model's own reasons for these features, strongest first
    assert [r["name"] for r in feature_reasons] == [name for name, _, _ in top]
    assert scored.score == pytest.approx(model_score, abs=1e-4)
    contributions = [r["contribution"] for r in feature_reasons]
    assert contributions == sorted(contributions, reverse=True)


def test_without_a_graph_snapshot_scoring_uses_neutral_graph_features(store: RiskStore, models: Models) -> None:
    scored = score(txn(), store, models, graph=False)
    assert scored.graph_version is None
    features = stored_features(store, "t1")
    graph_part = [features[name] for name in FEATURE_NAMES[len(VELOCITY_FEATURES) :]]
    assert graph_part == GraphSnapshot(built_at="x", payments=0).features("u1", "d1", "10.0.0.1", "m1")
    assert "graph_version" not in store.result("t1")
    assert Scored.from_item(store.result("t1")).graph_version is None


def test_graph_features_come_from_the_served_snapshot(store: RiskStore, models: Models) -> None:
    # Given a served snapshot, published with pseudonyms, that knows this user, device and merchant
    raw = GraphSnapshot(
        built_at="w1", payments=9, users={"u-ring": (4.0, 0.5)}, devices={"d-ring": (3.0, 0.2)}, merchants={"m1": 0.1}
    )
    served = raw.pseudonymised(UNIT_PSEUDONYM_KEY.encode())
    graph = LoadedModel(GRAPH_NAME, "g-v2", models[1].manifest, served, models[1].directory)
    # when a payment with those raw ids is scored
    score_transaction(txn(user="u-ring", device="d-ring", merchant="m1"), store, models[0], graph, NOW, "api")
    # then its graph features are the snapshot's for those ids, found through their pseudonyms
    features = stored_features(store, "t1")
    expected = raw.features("u-ring", "d-ring", "10.0.0.1", "m1")
    assert expected != GraphSnapshot(built_at="x", payments=0).features("u-ring", "d-ring", "10.0.0.1", "m1")
    assert [features[name] for name in FEATURE_NAMES[len(VELOCITY_FEATURES) :]] == pytest.approx(expected, rel=1e-5)


def test_a_different_payment_under_a_scored_id_is_refused_and_reveals_nothing(store: RiskStore, models: Models) -> None:
    # Given t1 was scored
    first = score(txn("t1"), store, models)
    # when someone sends another payment with t1's id (to read its decision, or to pre-claim it)
    with pytest.raises(KeyReused) as refused:
        score(txn("t1", amount=1.0), store, models)
    # then the answer is a 409 that names the id and nothing of the first answer
    assert refused.value.status_code == 409
    assert first.decision not in str(refused.value) and str(first.score) not in str(refused.value)
    # and the same request sent again still gets its first answer
    again = score(txn("t1"), store, models)
    assert again.replayed and (again.score, again.decision) == (first.score, first.decision)
    assert window_total(user_state(store), "n", "1h", NOW.timestamp()) == 1


# ---------------------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "at",
    [NOW - timedelta(days=7, seconds=1), NOW + timedelta(minutes=5, seconds=1), NOW - timedelta(days=400)],
    ids=["over-7-days-old", "over-5-minutes-ahead", "last-year"],
)
def test_timestamps_outside_the_windows_are_invalid_and_change_nothing(
    store: RiskStore, ddb: FakeDynamoDB, models: Models, at: datetime
) -> None:
    with pytest.raises(InvalidInput):
        score(txn(at=at), store, models)
    with pytest.raises(InvalidInput):
        record_account_event(login(at=at), store, NOW, "e1")
    assert all(not rows for rows in ddb.tables.values())


@pytest.mark.parametrize("at", [NOW - timedelta(days=7), NOW + timedelta(minutes=5)], ids=["7-days", "5-minutes"])
def test_timestamps_at_the_limits_are_accepted(store: RiskStore, models: Models, at: datetime) -> None:
    assert score(txn(at=at), store, models).replayed is False
    assert record_account_event(login(at=at), store, NOW, "e1") is True


# ------------------------------------------------------------------------------------- account events


def test_a_redelivered_account_event_is_applied_once(store: RiskStore) -> None:
    # Given a failed login delivered twice with its event_id, and another with a different id
    event = login(success=False)
    assert record_account_event(event, store, NOW, "e1") is True
    assert record_account_event(event, store, NOW, "e1") is False
    assert record_account_event(event, store, NOW, "e2") is True
    # then the user has two failed logins, not three
    assert window_total(user_state(store), "f", "1h", NOW.timestamp()) == 2


def test_a_different_account_event_under_a_used_id_is_refused_and_changes_nothing(store: RiskStore) -> None:
    # Given a failed login applied as e1
    assert record_account_event(login(success=False), store, NOW, "e1") is True
    before = user_state(store)
    # when a stranger sends a different event with the same id (to push the account into review, say)
    with pytest.raises(KeyReused, match="event_id 'e1' was already used for a different request"):
        record_account_event(login(success=False, device="d6", ip="10.6.6.6"), store, NOW, "e1")
    # then nothing changed
    assert user_state(store) == before


def test_a_read_that_fails_before_the_event_is_applied_leaves_no_mark(store: RiskStore, ddb: FakeDynamoDB) -> None:
    # Given the state read is throttled
    ddb.fail_with = client_error("ProvisionedThroughputExceededException", "BatchGetItem")
    with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
        record_account_event(login(success=False), store, NOW, "e1")
    # then the redelivery applies the event, once
    ddb.fail_with = None
    assert record_account_event(login(success=False), store, NOW, "e1") is True
    assert window_total(user_state(store), "f", "1h", NOW.timestamp()) == 1


def test_an_account_event_without_an_id_is_applied_every_time(store: RiskStore) -> None:
    for _ in range(3):
        assert record_account_event(login(success=False), store, NOW, None) is True
    assert window_total(user_state(store), "f", "1h", NOW.timestamp()) == 3


def test_a_successful_login_opens_a_session(store: RiskStore) -> None:
    record_account_event(login(device="d5", ip="10.5.5.5"), store, NOW, "e1")
    states, _ = store.read(["user#u1", "device#d5", "ip#10.5.5.5"])
    assert (states["user#u1"]["sd"], states["user#u1"]["st"], states["user#u1"]["sn"]) == ("d5", NOW.timestamp(), 1.0)
    assert states["device#d5"]["usr"] == {"u1": NOW.timestamp()}
    assert states["ip#10.5.5.5"]["usr"] == {"u1": NOW.timestamp()}


# ---------------------------------------------------------------------------------- failures and bugs


class FlakyDynamoDB(FakeDynamoDB):
    """Fails the next `failures` UpdateItem calls with a throttling error."""

    failures = 0

    def update_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.failures > 0:
            self.failures -= 1
            raise client_error("ProvisionedThroughputExceededException", "UpdateItem")
        return super().update_item(**kwargs)


@pytest.fixture
def flaky() -> FlakyDynamoDB:
    return FlakyDynamoDB(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})


@pytest.mark.parametrize("failures", [1, 4], ids=["one-of-four-writes-failed", "all-writes-failed"])
def test_a_retry_after_a_failed_state_write_counts_the_payment_once(
    flaky: FlakyDynamoDB, models: Models, failures: int
) -> None:
    risk_store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=flaky)
    try:
        # Given some of t1's velocity writes fail (throttled) while its result was stored
        flaky.failures = failures
        with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
            score(txn("t1"), risk_store, models)
        # when the client retries t1
        score(txn("t1"), risk_store, models)
        # then the payment counts, once, in every entity
        for key in ("user#u1", "device#d1", "ip#10.0.0.1", "merchant#m1"):
            states, _ = risk_store.read([key])
            assert window_total(states[key], "n", "1h", NOW.timestamp()) == 1, key
    finally:
        risk_store._writers.shutdown()


def test_a_redelivery_after_a_failed_apply_is_applied(flaky: FlakyDynamoDB) -> None:
    risk_store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=flaky)
    try:
        flaky.failures = 1
        with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
            record_account_event(login(success=False), risk_store, NOW, "e1")
        assert record_account_event(login(success=False), risk_store, NOW, "e1") is True
        assert window_total(user_state(risk_store), "f", "1h", NOW.timestamp()) == 1
    finally:
        risk_store._writers.shutdown()


def test_a_customer_returning_after_a_week_is_scored_and_counted(store: RiskStore, models: Models) -> None:
    before = NOW - timedelta(days=7)
    score(txn("t1", at=before), store, models, now=before)
    later = NOW + timedelta(hours=1)
    score(txn("t2", at=later), store, models, now=later)
    assert window_total(user_state(store), "n", "7d", later.timestamp()) == 1
    states, _ = store.read(["device#d1"])
    assert states["device#d1"]["usr"] == {"u1": later.timestamp()}


# ------------------------------------------------------------------ one path: serving equals the replay

SHARED_PATH_WORLD = SimulatorConfig(
    seed=3,
    n_customers=80,
    n_merchants=20,
    days=17,
    warmup_days=2,
    n_amount_outliers=3,
    n_card_testing_bursts=2,
    n_card_testers=1,
    n_account_takeovers=3,
    n_compromised_merchants=0,
    n_rings=1,
    ring_size=(4, 6),
    compromise_days=(2, 3),
)


def test_serving_computes_the_features_the_training_replay_computes(store: RiskStore, models: Models) -> None:
    # Given a small simulated world: logins and payments of genuine customers and every fraud scenario
    simulation = simulate(SHARED_PATH_WORLD)
    trained_on = replay(simulation, progress=False)
    expected = dict(zip(trained_on.payments["transaction_id"], trained_on.features, strict=True))
    # when all its events go, in time order, through the scoring handler's functions and DynamoDB
    events = simulation.events()
    columns = ["event_type", "transaction_id", "user_id", "device_id", "ip", "merchant_id", "amount", "lat", "lon"]
    compared = 0
    for row in events[[*columns, "timestamp", "success"]].itertuples(index=False):
        at = row.timestamp.to_pydatetime()
        place = (float(row.lat), float(row.lon))
        if row.event_type == "login":
            event = login(str(row.user_id), str(row.device_id), str(row.ip), bool(row.success), at, place)
            record_account_event(event, store, at, None)
            continue
        payment = txn(
            str(row.transaction_id),
            str(row.user_id),
            str(row.device_id),
            str(row.ip),
            str(row.merchant_id),
            float(row.amount),
            at,
            place,
        )
        score(payment, store, models, now=at, graph=False)
        served = list(stored_features(store, payment.transaction_id).values())[: len(VELOCITY_FEATURES)]
        replayed = expected[payment.transaction_id][: len(VELOCITY_FEATURES)]
        # then every payment's velocity features are the replay's (to the 6 digits the result stores)
        np.testing.assert_allclose(served, replayed, rtol=2e-5, atol=1e-5, err_msg=payment.transaction_id)
        compared += 1
    assert compared > 250
    assert set(events["success"].dropna()) == {True, False}
    assert "card_testing" in set(events["scenario"])


class ClaimFailsOnce(FakeDynamoDB):
    """Throttles the next PutItem (the result's claim); the parallel state writes go through."""

    failures = 1

    def put_item(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        if self.failures > 0:
            self.failures -= 1
            raise client_error("ProvisionedThroughputExceededException", "PutItem")
        return super().put_item(**kwargs)


def test_a_failed_claim_takes_its_counts_back_and_the_retry_counts_once(models: Models) -> None:
    ddb = ClaimFailsOnce(key_schemas={STATE_TABLE: ("entity",), RESULTS_TABLE: ("transaction_id",)})
    risk_store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    try:
        # Given the result could not be stored while the velocity writes, sent alongside, succeeded
        with pytest.raises(Exception, match="ProvisionedThroughputExceeded"):
            score(txn("t1"), risk_store, models)
        # then nothing stays counted,
        assert window_total(user_state(risk_store), "n", "1h", NOW.timestamp()) == 0
        # and the client's retry scores it and counts it once.
        assert not score(txn("t1"), risk_store, models).replayed
        assert window_total(user_state(risk_store), "n", "1h", NOW.timestamp()) == 1
        assert window_total(user_state(risk_store), "v", "1h", NOW.timestamp()) == 25.0
    finally:
        risk_store._writers.shutdown()


class WorkerKilled(BaseException):
    """SIGKILL: the process ends where it is, no `except` or `finally` of the store runs."""


class DiesAfterClaim(RiskStore):
    """A worker killed after its claim and the first `landing` of its state writes had landed."""

    landing = 0

    def _update(self, request: dict[str, Any]) -> bool:
        if request.get("TableName") == STATE_TABLE and "#seen" in request["ExpressionAttributeNames"]:
            if self.landing <= 0:
                raise WorkerKilled
            self.landing -= 1
        return super()._update(request)


@pytest.mark.parametrize("landing", [0, 2, 3])
def test_a_worker_killed_between_its_claim_and_its_state_writes_loses_no_count(
    ddb: FakeDynamoDB, models: Models, landing: int
) -> None:
    dying = DiesAfterClaim(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    dying._writers.shutdown()
    dying._writers = _InThisThread(max_workers=1)  # one write after another, so the kill lands after `landing` of them
    dying.landing = landing
    # Given the worker stored t1's result, then died with `landing` of its four state writes done
    with pytest.raises(WorkerKilled):
        score(txn("t1"), dying, models)
    assert ddb.tables[RESULTS_TABLE][("t1",)]["applied"] == {"BOOL": False}
    # when the message comes back to a new worker, twice
    store = RiskStore(STATE_TABLE, RESULTS_TABLE, dynamodb=ddb)
    try:
        for _ in range(2):
            assert score(txn("t1"), store, models).replayed
        # then the payment counts once in every entity, and the result says its writes are done
        for key in ("user#u1", "device#d1", "ip#10.0.0.1", "merchant#m1"):
            states, _ = store.read([key])
            assert window_total(states[key], "n", "1h", NOW.timestamp()) == 1, key
        assert store.result("t1")["applied"] is True
    finally:
        store._writers.shutdown()


class _InThisThread(ThreadPoolExecutor):
    """An executor that runs each task at once, in the caller's thread."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def account_event(kind: str, at: datetime = NOW, user: str = "u1") -> AccountEvent:
    return AccountEvent.model_validate(
        {
            "event_type": kind,
            "user_id": user,
            "device_id": "d1",
            "ip": "10.0.0.1",
            "timestamp": at,
            "location": {"lat": MADRID[0], "lon": MADRID[1]},
        }
    )


def test_an_account_change_then_a_payment_on_a_new_device_is_reviewed(store: RiskStore, models: Models) -> None:
    # Given the user's own payment, then their email changed
    score(txn("t1"), store, models)
    changed_at = NOW + timedelta(minutes=10)
    assert record_account_event(account_event("email_change", changed_at), store, changed_at, "c1") is True
    # when a payment comes from a device the account has never used, nearby (no impossible travel)
    at = NOW + timedelta(minutes=20)
    scored = score(txn("t2", device="d-new", at=at), store, models, now=at)
    # then the change and the new device together ask for a review
    assert stored_features(store, "t2")["user_account_changes_24h"] == 1
    assert "account_change_then_new_device" in [r["name"] for r in scored.reasons]
    assert scored.decision in ("review", "decline")
    # while the user's own device after the change raises no such rule
    own = score(txn("t3", at=at), store, models, now=at)
    assert "account_change_then_new_device" not in [r["name"] for r in own.reasons]


def test_a_logout_changes_nothing_and_a_login_must_say_whether_it_worked(store: RiskStore) -> None:
    assert record_account_event(account_event("logout"), store, NOW, "o1") is False
    states, _ = store.read(["user#u1"])
    assert states == {}
    with pytest.raises(ValueError, match="success"):
        account_event("login")


# ------------------------------------------------------------------------------------------ currencies


def test_a_payment_in_another_currency_is_refused_without_a_rate(store: RiskStore, models: Models) -> None:
    euros = txn().model_copy(update={"currency": "EUR"})
    with pytest.raises(InvalidInput, match="currency EUR is not handled here: payments in USD only"):
        score(euros, store, models)
    with pytest.raises(NotFound):  # nothing recorded, nothing counted
        store.result("t1")
    assert user_state(store) == {}


def test_a_payment_in_another_currency_counts_converted(store: RiskStore, models: Models) -> None:
    euros = txn(amount=100.0).model_copy(update={"currency": "EUR"})
    score_transaction(euros, store, models[0], models[1], NOW, "api", {"EUR": 1.08})
    later = NOW + timedelta(minutes=1)
    score(txn("t2", at=later), store, models, now=later)
    # the user's hour holds 108 USD from the euro payment, never 100 "dollars"
    assert stored_features(store, "t2")["user_amount_1h_log"] == pytest.approx(math.log1p(108.0), rel=1e-5)
    first = store.result("t1")
    assert (float(first["amount"]), float(first["amount_as_sent"]), first["currency"]) == (108.0, 100.0, "EUR")

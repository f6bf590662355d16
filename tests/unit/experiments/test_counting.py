"""Counting exposures and outcomes from behaviour events, through the DynamoDB adapter over the fake:
distinct users, once per event, outcomes only after exposure, nothing after the stop."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_ai.experiments.counting import apply_events
from commerce_ai.experiments.definitions import ExperimentChange, apply_change
from commerce_ai.experiments.serving import Definitions, arm_of
from commerce_ai.experiments.store import ExperimentStore, user_key
from commerce_ai.stream.schema import BehaviourEvent
from tests.unit.experiments.conftest import NOW, TABLE, create
from tests.unit.fakes import FakeClock, FakeDynamoDB, client_error

_ids = itertools.count()


def event(kind: str, user: str, at: datetime, **fields: Any) -> BehaviourEvent:
    base: dict[str, Any] = {
        "event_id": f"e-{next(_ids)}",
        "user_id": user,
        "session_id": "s-1",
        "event_type": kind,
        "timestamp": at,
        "item_id": "item-1",
    }
    if kind == "impression":
        base["item_ids"] = ["item-1", "item-2"]
    return BehaviourEvent.model_validate({**base, **fields})


def impression(user: str, arm: str, at: datetime = NOW, experiment: str = "ranker-test") -> BehaviourEvent:
    return event("impression", user, at, properties={"experiment": experiment, "arm": arm})


def counts(store: ExperimentStore) -> dict[str, tuple[int, int, int, int]]:
    return {arm: (c.users, c.exposures, c.clickers, c.converters) for arm, c in store.counts("ranker-test").items()}


def test_users_exposures_and_first_outcomes_are_counted_per_arm(store: ExperimentStore) -> None:
    create(store)
    minute = timedelta(minutes=1)
    events = [
        impression("u-1", "control"),
        impression("u-1", "control", NOW + minute),  # a second exposure: same user
        impression("u-2", "treatment"),
        event("click", "u-1", NOW + 2 * minute),
        event("click", "u-1", NOW + 3 * minute),  # not the first click
        event("purchase", "u-1", NOW + 4 * minute),
        event("click", "u-2", NOW + 2 * minute),
        event("click", "u-3", NOW + 2 * minute),  # never exposed
        event("view", "u-2", NOW + 2 * minute),  # neither exposure nor outcome
    ]
    applied = apply_events(events, store, now=NOW)
    assert (applied.users, applied.exposures, applied.clickers, applied.converters) == (2, 3, 2, 1)
    assert counts(store) == {"control": (1, 2, 1, 1), "treatment": (1, 1, 1, 0)}


def test_events_applied_twice_count_once(store: ExperimentStore) -> None:
    create(store)
    events = [impression(f"u-{i}", "control" if i % 2 else "treatment") for i in range(6)]
    events += [event("click", f"u-{i}", NOW + timedelta(minutes=1)) for i in range(3)]
    events += [event("purchase", "u-1", NOW + timedelta(minutes=2))]
    apply_events(events, store, now=NOW)
    first = counts(store)
    again = apply_events(events, store, now=NOW)  # a redelivered batch
    assert counts(store) == first
    assert (again.exposures, again.users, again.clickers, again.converters) == (0, 0, 0, 0)
    assert again.duplicates == 6


def test_an_outcome_before_the_exposure_does_not_count(store: ExperimentStore) -> None:
    create(store)
    apply_events([event("click", "u-1", NOW - timedelta(minutes=1)), impression("u-1", "control")], store, now=NOW)
    apply_events([event("click", "u-1", NOW - timedelta(seconds=1))], store, now=NOW)  # stamped before exposure
    assert counts(store) == {"control": (1, 1, 0, 0)}


def test_impressions_of_unknown_experiments_or_arms_and_after_the_stop_are_ignored(store: ExperimentStore) -> None:
    create(store)
    current = store.get("ranker-test")
    assert current is not None
    stopped = apply_change("ranker-test", current, ExperimentChange(status="stopped"), NOW + timedelta(hours=1))
    store.put(stopped, current.revision)
    applied = apply_events(
        [
            impression("u-1", "control", experiment="no-such-test"),
            impression("u-1", "purple"),
            event("impression", "u-1", NOW, properties={"experiment": "ranker-test"}),  # no arm: not an exposure
            impression("u-2", "treatment", NOW + timedelta(hours=2)),  # after the stop
            impression("u-3", "treatment", NOW),  # before it
            event("click", "u-3", NOW + timedelta(hours=2)),  # after the stop
        ],
        store,
        now=NOW,
    )
    assert applied.ignored == 3 and applied.clickers == 0
    assert counts(store) == {"treatment": (1, 1, 0, 0)}


def test_a_new_experiment_missing_from_a_stale_listing_still_counts(store: ExperimentStore) -> None:
    # Given the container's cached listing and lookup were made before the experiment existed,
    stale = Definitions(store, refresh_seconds=3600, clock=FakeClock())
    assert stale.all() == [] and stale.get("ranker-test") is None
    create(store)
    # when its first impression and then a click arrive (in separate batches), both count.
    assert apply_events([impression("u-1", "control")], store, stale, now=NOW).users == 1
    assert apply_events([event("click", "u-1", NOW + timedelta(minutes=1))], store, stale, now=NOW).clickers == 1


def test_a_user_stays_in_the_arm_of_their_first_exposure(store: ExperimentStore) -> None:
    create(store)
    apply_events([impression("u-1", "control")], store, now=NOW)
    # weights changed and the user now sees treatment: an exposure of treatment, not a second user
    apply_events([impression("u-1", "treatment", NOW + timedelta(minutes=1))], store, now=NOW)
    apply_events([event("purchase", "u-1", NOW + timedelta(minutes=2))], store, now=NOW)
    assert counts(store) == {"control": (1, 1, 0, 1), "treatment": (0, 1, 0, 0)}


def test_no_user_id_is_stored_and_state_expires(store: ExperimentStore, ddb: FakeDynamoDB) -> None:
    create(store)
    apply_events(
        [impression("shopper-42@example", "control"), event("click", "shopper-42@example", NOW)], store, now=NOW
    )
    stored = repr(ddb.tables)
    assert "shopper-42" not in stored
    state = ddb.tables["experiments-table"][
        (f"ranker-test#user#{user_key('ranker-test', 'shopper-42@example')}", "state")
    ]
    assert int(state["expires_at"]["N"]) == int((NOW + timedelta(days=90)).timestamp())


def test_a_race_on_the_users_first_exposure_is_counted_once(store: ExperimentStore, ddb: FakeDynamoDB) -> None:
    # Given another consumer records the user's first exposure between our read and our write,
    create(store)
    original = store.user_state
    raced = {"done": False}

    def read_then_race(experiment: str, user_id: str) -> Any:
        found = original(experiment, user_id)
        if not raced["done"]:
            raced["done"] = True
            ExperimentStore("experiments-table", ddb).record_exposure(
                experiment, "control", user_id, "other-event", NOW, NOW
            )
        return found

    store.user_state = read_then_race  # type: ignore[method-assign]
    # when ours is written, it is re-read and counted as a second exposure of the same user.
    assert store.record_exposure("ranker-test", "control", "u-1", "our-event", NOW, NOW) == "exposure"
    assert counts(store) == {"control": (1, 2, 0, 0)}


def test_other_write_failures_leave_the_event_to_be_retried(store: ExperimentStore, ddb: FakeDynamoDB) -> None:
    create(store)
    ddb.fail_with = client_error("ProvisionedThroughputExceededException", "TransactWriteItems")
    with pytest.raises(Exception, match="ProvisionedThroughput"):
        apply_events([impression("u-1", "control")], store, now=NOW)
    ddb.fail_with = None
    apply_events([impression("u-1", "control")], store, now=NOW)
    assert counts(store) == {"control": (1, 1, 0, 0)}


def test_served_arms_and_counted_arms_agree(store: ExperimentStore) -> None:
    # Serving code names the arm `assign` gave it; counting those impressions gives each arm its users.
    create(store)
    experiment = store.get("ranker-test")
    assert experiment is not None
    users = [f"u-{i}" for i in range(40)]
    apply_events([impression(u, arm_of(experiment, u).name) for u in users], store, now=NOW)
    found = counts(store)
    assert sum(c[0] for c in found.values()) == 40
    assert found["control"][0] == sum(arm_of(experiment, u).name == "control" for u in users)


def _conflicting(ddb: FakeDynamoDB, times: int) -> list[int]:
    """Make the next `times` transactions collide with another transaction (DynamoDB's TransactionConflict)."""
    real, calls = ddb.transact_write_items, [0]

    def transact(TransactItems: list[dict[str, Any]]) -> dict[str, Any]:
        calls[0] += 1
        if calls[0] <= times:
            error = client_error("TransactionCanceledException", "TransactWriteItems")
            error.response["CancellationReasons"] = [{"Code": "None"}] * (len(TransactItems) - 1) + [
                {"Code": "TransactionConflict"}
            ]
            raise error
        return real(TransactItems=TransactItems)

    ddb.transact_write_items = transact  # type: ignore[method-assign]
    return calls


def test_a_transaction_conflict_on_a_busy_counter_is_retried(
    store: ExperimentStore, ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(store)
    monkeypatch.setattr("commerce_ai.experiments.store.time.sleep", lambda seconds: None)
    calls = _conflicting(ddb, times=2)
    assert apply_events([impression("u-1", "control")], store, now=NOW).users == 1
    assert calls[0] == 3 and counts(store) == {"control": (1, 1, 0, 0)}


def test_a_conflict_that_persists_leaves_the_event_to_the_queue(
    store: ExperimentStore, ddb: FakeDynamoDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(store)
    monkeypatch.setattr("commerce_ai.experiments.store.time.sleep", lambda seconds: None)
    _conflicting(ddb, times=100)
    with pytest.raises(Exception, match="TransactionCanceledException"):
        apply_events([impression("u-1", "control")], store, now=NOW)
    assert counts(store) == {}


def reference_counts(events: list[BehaviourEvent]) -> dict[str, tuple[int, int, int, int]]:
    """What the README says is counted, computed directly: each event id once; a user's arm is that of
    their earliest impression, and an outcome counts if stamped at or after it."""
    first_arm: dict[str, tuple[str, datetime]] = {}
    exposures: dict[str, set[str]] = {}
    outcomes: dict[tuple[str, str], set[str]] = {}
    seen: set[str] = set()
    for e in sorted(events, key=lambda e: (e.timestamp, e.event_type != "impression")):
        if e.event_id in seen:
            continue
        seen.add(e.event_id)
        if e.event_type == "impression":
            named = e.experiment_arm()
            assert named is not None
            first_arm.setdefault(e.user_id, (named[1], e.timestamp))
            exposures.setdefault(named[1], set()).add(e.event_id)
        elif e.user_id in first_arm and e.timestamp >= first_arm[e.user_id][1]:
            arm = first_arm[e.user_id][0]
            outcomes.setdefault((arm, e.event_type), set()).add(e.user_id)
    arms = set(exposures)
    return {
        arm: (
            sum(1 for a, _ in first_arm.values() if a == arm),
            len(exposures.get(arm, set())),
            len(outcomes.get((arm, "click"), set())),
            len(outcomes.get((arm, "purchase"), set())),
        )
        for arm in arms
    }


event_specs = st.lists(
    st.tuples(
        st.sampled_from(["impression", "click", "purchase"]),
        st.sampled_from(["u-1", "u-2", "u-3", "u-4"]),
        st.sampled_from(["control", "treatment"]),
        st.integers(0, 20),  # minutes after NOW
    ),
    min_size=1,
    max_size=25,
)


@given(specs=event_specs, data=st.data())
def test_counts_match_the_definition_however_often_events_are_redelivered(
    specs: list[tuple[str, str, str, int]], data: st.DataObject
) -> None:
    # Given a fresh table and a stream of impressions, clicks and purchases by a few users,
    store = ExperimentStore(TABLE, FakeDynamoDB(key_schemas={TABLE: ("pk", "sk")}))
    create(store)
    events = [
        impression(user, arm, NOW + timedelta(minutes=minute))
        if kind == "impression"
        else event(kind, user, NOW + timedelta(minutes=minute))
        for kind, user, arm, minute in specs
    ]
    # when the whole stream is applied, and then any of its events again, in any order (redeliveries),
    apply_events(events, store, now=NOW)
    redelivered = data.draw(st.lists(st.sampled_from(events), max_size=15))
    apply_events(redelivered, store, now=NOW)
    # then the counts are exactly what the definition of each count says.
    found = {arm: c for arm, c in counts(store).items() if any(c)}
    assert found == {arm: c for arm, c in reference_counts(events).items() if any(c)}

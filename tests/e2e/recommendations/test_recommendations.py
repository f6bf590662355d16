"""Recommendations from outside, against `commerce-ai up` (MovieLens-100k model built or restored, the
catalogue seeded): a user's recommendations, an event posted to POST /events changing the next GET (the
event-to-effect latency measured), and a ranker experiment counting impressions and clicks per arm."""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Running, until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
EXPERIMENT = "recommendations-ranker"  # RECOMMENDATION_EXPERIMENT in template.yaml


def ingest_key(running: Running) -> str:
    return running.ingest_key


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post(running: Running, events: list[dict[str, Any]], session: requests.Session) -> None:
    answer = session.post(
        f"{running.http}/events", json={"events": events}, headers={"x-api-key": ingest_key(running)}, timeout=10
    )
    assert answer.status_code == 202 and answer.json()["accepted"] == len(events), answer.text


def recommendations(running: Running, user: str, session: requests.Session, query: str = "n=10") -> dict[str, Any]:
    got = session.get(
        f"{running.http}/recommendations/{user}?{query}", headers={"x-api-key": ingest_key(running)}, timeout=10
    )
    assert got.status_code == 200, got.text
    return dict(got.json())


def test_movielens_recommendations_and_an_event_changes_the_next_get_within_a_second(running: Running) -> None:
    session = requests.Session()  # kept alive, as real callers are
    known = recommendations(running, "196", session)
    assert not known["cold_start"] and len(known["recommendations"]) == 10
    assert known["model_version"]
    similar = session.get(f"{running.http}/recommendations/similar/50?n=5", timeout=10)
    assert similar.status_code == 200 and len(similar.json()["similar"]) == 5
    assert session.get(f"{running.http}/recommendations/similar/999999", timeout=10).status_code == 404
    bad = session.get(
        f"{running.http}/recommendations/196?filter=category%20~%20x", headers={"x-api-key": ingest_key(running)}
    )
    assert bad.status_code == 400 and "clause 1" in bad.json()["Message"]
    assert session.get(f"{running.http}/recommendations/196", timeout=10).status_code == 401

    # Event to effect: a new visitor views Star Wars; the clock runs from POST /events until a GET shows it.
    latencies = []
    for n in range(10):
        user = f"e2e-rt-{uuid.uuid4().hex[:8]}"
        assert recommendations(running, user, session, "n=5")["cold_start"]
        view = {
            "event_id": f"{user}-view",
            "user_id": user,
            "session_id": "s-1",
            "event_type": "view",
            "timestamp": stamp(datetime.now(UTC)),
            "item_id": "50",
        }
        started = time.perf_counter()
        post(running, [view], session)
        changed = until(lambda u=user: recommendations(running, u, session, "n=5")["session_items"] == 1, 30, 0.02)
        assert changed
        latencies.append(time.perf_counter() - started)
        if n == 0:
            after = recommendations(running, user, session, "n=5")
            assert not after["cold_start"]
            assert after["recommendations"][0]["reason"] == "because you viewed Star Wars (1977)"
    latencies.sort()
    print(
        f"event to effect over {len(latencies)} events: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    assert statistics.median(latencies) < 5.0  # the target is 1 s; a loaded shared machine gets some slack


def test_a_ranker_experiment_counts_impressions_and_clicks_per_arm(running: Running) -> None:
    session = requests.Session()
    admin = {"x-api-key": running.admin_key, "Content-Type": "application/json"}
    active = session.get(f"{running.http}/models/recommendations-ranker", timeout=10).json()["active_version"]
    definition = {
        "arms": [
            {"name": "champion", "model": {"model": "recommendations-ranker", "version": active}, "weight": 50},
            # A real test pins a second version here (a retrained candidate); the e2e has one built version.
            {"name": "challenger", "model": {"model": "recommendations-ranker", "version": active}, "weight": 50},
        ],
        "control": "champion",
        "primary_metric": "click_through",
        "baseline_rate": 0.1,
        "minimum_detectable_effect": 0.05,
    }
    created = session.put(f"{running.http}/experiments/{EXPERIMENT}", json=definition, headers=admin, timeout=10)
    assert created.status_code == 201, created.text
    now = datetime.now(UTC)
    arms: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    for n in range(16):
        user = f"e2e-arm-{n}-{uuid.uuid4().hex[:6]}"

        def served(u: str = user) -> dict[str, Any] | None:
            answer = recommendations(running, u, session, "n=5")
            return answer if answer["experiment"] is not None else None  # definitions cached up to 30 s

        answer = until(served, 60, 1.0)
        arm = answer["experiment"]
        assert arm["name"] == EXPERIMENT
        arms[user] = arm["arm"]
        shown = [r["item_id"] for r in answer["recommendations"]]
        common = {"user_id": user, "session_id": "s-1"}
        events.append(
            {
                **common,
                "event_id": f"{user}-imp",
                "event_type": "impression",
                "timestamp": stamp(now),
                "item_id": shown[0],
                "item_ids": shown,
                "properties": {"experiment": arm["name"], "arm": arm["arm"]},
            }
        )
        if n % 2 == 0:
            events.append(
                {
                    **common,
                    "event_id": f"{user}-click",
                    "event_type": "click",
                    "timestamp": stamp(now + timedelta(seconds=2)),
                    "item_id": shown[0],
                }
            )
    post(running, events, session)
    expected_users = {arm: sum(a == arm for a in arms.values()) for arm in ("champion", "challenger")}
    clickers = {arm: sum(a == arm for u, a in arms.items() if int(u.split("-")[2]) % 2 == 0) for arm in expected_users}

    def counted() -> dict[str, Any] | None:
        report = session.get(f"{running.http}/experiments/{EXPERIMENT}", headers=admin, timeout=10).json()
        per_arm = {a["arm"]: a for a in report["results"]["arms"]}
        done = all(per_arm[arm]["clickers"] == clickers[arm] for arm in expected_users)
        return per_arm if done and all(per_arm[a]["users"] == expected_users[a] for a in expected_users) else None

    per_arm = until(counted, 60, 1.0)
    assert {arm: per_arm[arm]["exposures"] for arm in expected_users} == expected_users
    stopped = session.put(f"{running.http}/experiments/{EXPERIMENT}", json={"status": "stopped"}, headers=admin)
    assert stopped.status_code == 200

"""Propensity's functions in the IAM agreement check (tests/unit/platform/test_iam_agreement.py). The API
scenario serves real `propensity-7d`/`propensity-28d` artifacts trained on a small purchases file."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chalice.test import Client

from commerce_ai import aws
from commerce_ai.erasure import ErasureLog
from commerce_ai.propensity import catalogue
from commerce_ai.propensity import service as propensity_service
from commerce_ai.propensity.profile import Profile
from model_build import Built
from tests.support.events import sample
from tests.support.propensity import event, purchases_csv
from tests.unit.iam import STACK, Scenario, World, configure

CACHED = (
    propensity_service.store,
    propensity_service.model_loader,
    propensity_service.jobs,
    catalogue._catalog,
)


def built_small(directory: Path) -> list[Built]:
    from model_build.propensity import build

    return build(directory / "out", data=purchases_csv(directory / "purchases.csv"))


def known_profile() -> None:
    profile = Profile("u-1001")
    now = datetime.now(UTC)
    for i in range(3):
        profile.apply(event(f"p{i}", "purchase", now - timedelta(days=3 * i + 1), user="u-1001", price=9.5))
    propensity_service.store().save(profile, None, time.time())


def run_propensity_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "PropensityApiFunction", tmp_path)
    env = STACK.function("PropensityApiFunction").environment
    world.ssm.values[env["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.ssm.values[env["INGEST_API_KEY_PARAMETER"]] = "i"
    world.serve(world.built("propensity", built_small))
    known_profile()
    world.forget_setup()
    with Client(handler) as client:
        for user in ("u-1001", "u-unknown"):
            scored = client.http.get(f"/users/{user}/propensity?horizon=28d", headers={"x-api-key": "i"})
            assert scored.status_code == 200, scored.body
        profile = client.http.get("/users/u-1001/profile", headers={"x-api-key": "k"})
        assert profile.status_code == 200, profile.body


def run_profile_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "PropensityProfileEventsFunction", tmp_path)
    ErasureLog.from_settings().record("u-erased", datetime.now(UTC))
    world.forget_setup()
    events = sample("propensity/PropensityProfileEventsFunction-BehaviourEventQueued.json")
    assert handler(events, context) == {"batchItemFailures": []}
    assert handler(events, context) == {"batchItemFailures": []}  # redelivered: the ledger skips each


def run_batch_scoring(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "PropensityBatchScoringFunction", tmp_path)
    world.serve(world.built("propensity", built_small))
    known_profile()
    yesterday = f"{datetime.now(UTC) - timedelta(days=1):%Y-%m-%d}"
    segment = f"segments/high_intent/{yesterday}.csv"
    aws.client("s3").put_object(
        Bucket=STACK.function("PropensityBatchScoringFunction").environment["PROPENSITY_EXPORTS_BUCKET"],
        Key=segment,
        Body=b"user_id,probability,cold_start,model_version\nu-gone,0.9,false,1\n",
    )
    propensity_service.jobs().put(f"daily-{yesterday}", status="done", high_intent=segment)
    world.forget_setup()
    requested = sample("propensity/PropensityBatchScoringFunction-BatchRequested.json")
    assert handler(requested, context) == {"batchItemFailures": []}
    assert handler(requested, context) == {"batchItemFailures": []}  # redelivered: the job is done
    daily = handler(sample("propensity/PropensityBatchScoringFunction-Daily.json"), context)
    assert daily["status"] == "done" and daily["users"] == 1 and daily["high_intent"] == 1


SCENARIOS: dict[str, Scenario] = {
    "PropensityBatchScoringFunction": run_batch_scoring,
    "PropensityApiFunction": run_propensity_api,
    "PropensityProfileEventsFunction": run_profile_events,
}

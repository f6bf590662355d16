"""Propensity on the emulator (real boto3 against moto, the template bootstrapped): behaviour events
published to the topic reach the profiles queue and its function (a poison record fails alone, a
redelivery changes nothing), the API scores known and unknown users with real artifacts, and the
shop-wide erasure leaves nothing of the user queryable."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_ai import aws
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.propensity import catalogue, service
from infra.runner.sqs_poller import QueueSource
from infra.template import Stack
from model_build import publish
from model_build.propensity.clickstream import ClickstreamConfig, simulate
from tests.conftest import ADMIN_KEY, INGEST_KEY
from tests.integration.conftest import empty_queue
from tests.integration.local_stack import call, drain, gateway_for
from tests.support.invoke import in_process

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def fresh_container() -> None:
    for cached in (service.store, service.model_loader, catalogue._catalog):
        cached.cache_clear()


@pytest.fixture(scope="module")
def propensity_models(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from model_build.propensity import build
    from tests.support.propensity import purchases_csv

    root = tmp_path_factory.mktemp("propensity")
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    versions = {}
    for built in build(root / "out", data=purchases_csv(root / "p.csv")):
        manifest = publish(store, built)
        drain(stack, registry, built.name, versions=len(registry.versions(built.name)) + 1)
        registry.activate(built.name, manifest.version)
        versions[built.name] = manifest.version
    return versions


def queue(stack: Stack) -> QueueSource:
    url = aws.client("sqs").get_queue_url(QueueName=stack.physical_name("PropensityProfileEventsQueue"))["QueueUrl"]
    return QueueSource(
        "PropensityProfileEventsFunction",
        url,
        stack.arn("PropensityProfileEventsQueue"),
        batch_size=10,
        report_failures=True,
    )


def publish_events(stack: Stack, bodies: list[str]) -> None:
    """To the behaviour-event topic, as POST /events does (the emulator fans out to the queue)."""
    arn = stack.arn("BehaviourEventsTopic")
    for start in range(0, len(bodies), 10):
        aws.client("sns").publish_batch(
            TopicArn=arn,
            PublishBatchRequestEntries=[
                {
                    "Id": str(i),
                    "Message": body,
                    "MessageAttributes": {
                        "event_type": {"DataType": "String", "StringValue": json.loads(body).get("event_type", "x")}
                    },
                }
                for i, body in enumerate(bodies[start : start + 10])
            ],
        )


def consume(stack: Stack, expected: int) -> set[str]:
    """Run the profiles function over `expected` records; the ids of those it failed."""
    source, invoke = queue(stack), in_process(stack)
    failed: set[str] = set()
    received = 0
    while received < expected:
        batch = source.receive_batch(threading.Event())
        assert batch, f"only {received} of {expected} records arrived"
        received += len(batch)
        failed |= source.process(batch, invoke)
    return failed


def user_events(user: str, days: int = 20) -> list[str]:
    config = ClickstreamConfig(users=1, days=days, sessions_per_day=1.5, user_prefix=f"{user}-", seed=5)
    start = datetime.now(UTC) - timedelta(days=days)
    events = simulate(config.model_copy(update={"start": start}))
    return [json.dumps({**e.to_record(), "user_id": user, "event_id": f"{user}-{e.event_id}"}) for e in events]


def profile_items(stack: Stack, user: str) -> list[dict[str, Any]]:
    return aws.client("dynamodb").query(
        TableName=stack.physical_name("UserProfilesTable"),
        KeyConditionExpression="user_id = :u",
        ExpressionAttributeValues={":u": {"S": user}},
        ConsistentRead=True,
    )["Items"]


def test_events_build_the_profile_once_and_the_api_scores_and_erases(
    stack: Stack, propensity_models: dict[str, str]
) -> None:
    user = f"it-{uuid.uuid4().hex[:8]}"
    bodies = user_events(user)[:60]
    gateway = gateway_for(stack)
    url = queue(stack).queue_url
    empty_queue(url)  # the session's other tests publish to the same topic
    # Given a user's events published to the stream, one of whose items the shop's catalogue knows (its
    # category there wins over the event's properties), with a poison record sent to the queue itself,
    known = next(json.loads(b)["item_id"] for b in bodies if json.loads(b).get("item_id"))
    catalog = Catalog(stack.physical_name("CatalogTable"))
    catalog.put(CatalogItem(item_id=known, title="Known item", category="it-catalogued", updated_at=datetime.now(UTC)))
    publish_events(stack, bodies)
    aws.client("sqs").send_message(QueueUrl=url, MessageBody='{"event_type": "view"}')
    # when the profiles function consumes them, and then all of them again (at least once),
    assert len(consume(stack, len(bodies) + 1)) == 1
    status, first = call(gateway, "GET", f"/users/{user}/profile", key=ADMIN_KEY)
    assert status == 200, first
    publish_events(stack, bodies)
    assert consume(stack, len(bodies)) == set()
    # then each event is in the profile once,
    status, again = call(gateway, "GET", f"/users/{user}/profile", key=ADMIN_KEY)
    assert again["revision"] == first["revision"]
    counted = sum(again["features"][f"{kind}_count_lifetime"] for kind in ("view", "search", "click", "impression"))
    counted += sum(
        again["features"][f"{kind}_count_lifetime"]
        for kind in ("add_to_cart", "remove_from_cart", "purchase", "rating", "not_interested")
    )
    assert counted == len(bodies)
    assert "it-catalogued" in {c["name"] for c in again["categories"]} and len(again["features"]) >= 200

    # and the API scores the user from the live profile, with reasons, and an unknown user from the prior.
    status, scored = call(gateway, "GET", f"/users/{user}/propensity?horizon=28d", key=INGEST_KEY)
    assert status == 200, scored
    assert scored["cold_start"] is False and 0 <= scored["probability"] <= 1
    assert scored["model_version"] == propensity_models["propensity-28d"]
    assert scored["reasons"]["up"] or scored["reasons"]["down"]
    status, cold = call(gateway, "GET", f"/users/nobody-{user}/propensity?horizon=7d", key=INGEST_KEY)
    assert status == 200 and cold["cold_start"] is True and cold["reasons"] == {"up": [], "down": []}

    # Bad input is a JSON 4xx; the profile is personal data.
    assert call(gateway, "GET", f"/users/{user}/propensity?horizon=3d", key=INGEST_KEY)[0] == 400
    assert call(gateway, "GET", f"/users/{user}/propensity?horizon=28d")[0] == 401  # never anonymous
    assert call(gateway, "GET", f"/users/{user}/profile")[0] == 401
    assert call(gateway, "GET", f"/users/nobody-{user}/profile", key=ADMIN_KEY)[0] == 404

    # Erasure: nothing of the user remains queryable, and late copies of old events do not bring it back.
    assert call(gateway, "DELETE", f"/users/{user}")[0] == 401
    status, erased = call(gateway, "DELETE", f"/users/{user}", key=ADMIN_KEY)
    # every capability that keeps per-user data says what it removed: here only the profile (this test
    # delivers the events to propensity's queue alone, so no other store holds the user)
    assert status == 200 and erased["removed"] == {
        "experiments": 0,
        "propensity": 1,
        "recommendations": 0,
        "risk": 0,
        "support": 0,
    }
    assert profile_items(stack, user) == []
    assert call(gateway, "GET", f"/users/{user}/profile", key=ADMIN_KEY)[0] == 404
    status, after = call(gateway, "GET", f"/users/{user}/propensity?horizon=28d", key=INGEST_KEY)
    assert status == 200 and after["cold_start"] is True
    publish_events(
        stack, [json.dumps({**json.loads(b), "event_id": json.loads(b)["event_id"] + "-late"}) for b in bodies[:5]]
    )
    assert consume(stack, 5) == set()
    assert profile_items(stack, user) == []


def test_an_experiment_serves_a_second_version_to_its_share_of_users(
    stack: Stack, propensity_models: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    from commerce_ai.experiments import service as experiments_service

    experiments_service.definitions.cache_clear()
    gateway = gateway_for(stack)
    store = ArtifactStore(stack.physical_name("ArtifactBucket"))
    registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
    control = propensity_models["propensity-28d"]
    # Given a second version of propensity-28d, registered but not activated,
    manifest = store.read_manifest("propensity-28d", control)
    challenger = f"{control}-b"
    files = store.download(manifest, tmp_path_factory.mktemp("challenger"))
    store.publish(manifest.model_copy(update={"version": challenger}), files)
    drain(stack, registry, "propensity-28d", versions=len(registry.versions("propensity-28d")) + 1)
    # and an experiment named after the model that splits users between the two,
    arms = [
        {"name": "control", "model": {"model": "propensity-28d", "version": control}, "weight": 50},
        {"name": "challenger", "model": {"model": "propensity-28d", "version": challenger}, "weight": 50},
    ]
    body = {
        "arms": arms,
        "control": "control",
        "primary_metric": "conversion",
        "baseline_rate": 0.07,
        "minimum_detectable_effect": 0.02,
    }
    status, created = call(gateway, "PUT", "/experiments/propensity-28d", body, key=ADMIN_KEY)
    assert status == 201, created
    # when users are scored, each is served their arm's version and told which arm,
    served: dict[str, set[str]] = {"control": set(), "challenger": set()}
    for i in range(30):
        status, scored = call(gateway, "GET", f"/users/exp-{i}/propensity?horizon=28d", key=INGEST_KEY)
        assert status == 200, scored
        served[scored["experiment"]["arm"]].add(scored["model_version"])
    # then both arms serve, each its own version; the 7-day model has no experiment.
    assert served == {"control": {control}, "challenger": {challenger}}
    status, other = call(gateway, "GET", "/users/exp-1/propensity?horizon=7d", key=INGEST_KEY)
    assert status == 200 and other["experiment"] is None
    call(gateway, "PUT", "/experiments/propensity-28d", {"status": "stopped"}, key=ADMIN_KEY)


def test_batch_scoring_writes_the_segment_once_and_fails_only_the_poison(
    stack: Stack, propensity_models: dict[str, str]
) -> None:
    user = f"it-batch-{uuid.uuid4().hex[:8]}"
    empty_queue(queue(stack).queue_url)
    publish_events(stack, user_events(user)[:20])
    assert consume(stack, 20) == set()
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.physical_name("PropensityBatchScoringQueue"))["QueueUrl"]
    source = QueueSource(
        "PropensityBatchScoringFunction",
        url,
        stack.arn("PropensityBatchScoringQueue"),
        batch_size=1,
        report_failures=True,
    )
    job = f"job-{uuid.uuid4().hex[:8]}"
    request = json.dumps({"job_id": job, "horizon": "28d", "user_ids": [user, f"{user}-unknown"]})
    # Given a segment request, a poison request and a job id reused for another segment,
    bodies = [request, '{"job_id": "x", "user_ids": "not a list"}', request.replace(f'"{user}", ', "")]
    failed: list[bool] = []
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
        batch = source.receive_batch(threading.Event())
        failed.append(bool(source.process(batch, in_process(stack))))
    # then only the poison and the conflicting reuse fail,
    assert failed == [False, True, True]
    # the segment is in S3 with the known user scored and the unknown one at the prior,
    bucket = stack.physical_name("PropensityExportsBucket")
    rows = aws.client("s3").get_object(Bucket=bucket, Key=f"segments/{job}.csv")["Body"].read().decode().splitlines()
    assert rows[0] == "user_id,probability,cold_start,model_version" and len(rows) == 3
    assert rows[1].startswith(f"{user},") and rows[1].endswith(f",false,{propensity_models['propensity-28d']}")
    assert ",true," in rows[2]
    status = aws.client("dynamodb").get_item(
        TableName=stack.physical_name("PropensityJobsTable"), Key={"job_id": {"S": job}}
    )["Item"]
    assert status["status"]["S"] == "done" and status["output"]["S"] == f"s3://{bucket}/segments/{job}.csv"
    assert any(item["kind"]["S"] == "score#28d" for item in profile_items(stack, user))
    # and a redelivery of the request changes nothing.
    sqs.send_message(QueueUrl=url, MessageBody=request)
    assert source.process(source.receive_batch(threading.Event()), in_process(stack)) == set()
    again = aws.client("dynamodb").get_item(
        TableName=stack.physical_name("PropensityJobsTable"), Key={"job_id": {"S": job}}
    )["Item"]
    assert again["finished_at"] == status["finished_at"]


def test_the_daily_run_publishes_high_intent_per_user_in_dynamodb(
    stack: Stack, propensity_models: dict[str, str]
) -> None:
    from commerce_ai.propensity import erasure
    from commerce_ai.propensity.batch import HIGH_INTENT, SEGMENT_TTL_DAYS, BatchRequest
    from commerce_ai.propensity.profile import Profile
    from tests.support.propensity import event

    del propensity_models
    store = service.store()
    tag = uuid.uuid4().hex[:8]
    users = [f"it-seg-{tag}-{i}" for i in range(10)]
    # Given ten users with profiles, buying more often the higher their number,
    day = datetime.now(UTC) + timedelta(days=1000 + int(tag, 16) % 40_000)  # a day no other run used
    for i, user in enumerate(users):
        profile = Profile(user)
        for k in range(i + 1):
            bought = day - timedelta(days=3 * k + 1)
            profile.apply(event(f"{user}-{k}", "purchase", bought, user=user, price=12.0))
        store.save(profile, None, day.timestamp())

    def daily(at: datetime, members: list[str]) -> str:
        request = BatchRequest(job_id=f"daily-{at:%Y-%m-%d}", horizon="7d", user_ids=members)
        result = service.run_batch(request, at, daily=True)
        assert result.high_intent == 1  # the top decile of ten
        body = aws.client("s3").get_object(
            Bucket=stack.physical_name("PropensityExportsBucket"), Key=f"segments/high_intent/{at:%Y-%m-%d}.csv"
        )["Body"]
        return body.read().decode().splitlines()[1].split(",")[0]

    # when the daily run publishes high_intent, each member is in DynamoDB, found per user,
    first = daily(day, users)
    member = store.segment(first, HIGH_INTENT, day.timestamp())
    assert member is not None and member["day"] == f"{day:%Y-%m-%d}" and member["horizon"] == "7d"
    assert member["probability"] >= member["threshold"]
    assert all(store.segment(u, HIGH_INTENT, day.timestamp()) is None for u in users if u != first)
    # the next day's run removes a member who fell out (here: no longer active) and adds the new one,
    next_day = day + timedelta(days=1)
    second = daily(next_day, [u for u in users if u != first])
    assert store.segment(first, HIGH_INTENT, next_day.timestamp()) is None
    assert store.segment(second, HIGH_INTENT, next_day.timestamp()) is not None
    status = service.jobs().get(f"daily-{next_day:%Y-%m-%d}")
    assert status is not None and int(status["high_intent_dropped"]) == 1
    # the admin profile view shows it, a membership no run renewed lapses (TTL; readers skip it before
    # DynamoDB deletes it),
    view = service.profile_view(second, next_day)
    assert [s["segment"] for s in view["segments"]] == [HIGH_INTENT]
    later = next_day + timedelta(days=SEGMENT_TTL_DAYS, seconds=1)
    assert store.segment(second, HIGH_INTENT, later.timestamp()) is None
    # and the shop-wide erasure's propensity part removes it with the profile and the score.
    assert erasure.erase_user(second) == 3
    assert profile_items(stack, second) == []

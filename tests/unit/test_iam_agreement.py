"""Each function's IAM policy in template.yaml allows every AWS call its code makes.

The template's policies are least-privilege and hand-written, so a new DynamoDB Query or S3 read in the
code deploys fine and then fails with AccessDenied in AWS only (moto and the local runner do not enforce
IAM). Here each handler runs its main paths over in-memory AWS (tests/unit/fakes.py) laid out exactly as
the template lays it out; every call the fakes record becomes an IAM action on a resource ARN (a batch
call, one per table it names), which the function's own policy statements must allow. Functions that
serve a model get a real one: the pricing scenarios publish and activate a `pricing-demand` artifact.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from commerce_ai import http
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.pricing import service
from commerce_ai.pricing.catalog import CatalogStore, SkuState, _decoded, _state, shard_of
from commerce_ai.pricing.demand import MODEL_NAME as DEMAND_MODEL
from commerce_ai.risk import service as risk_service
from commerce_ai.risk import weekly as risk_weekly
from infra.runner.context import LambdaContext
from infra.runner.invoker import load_handler
from infra.runner.scheduler import scheduled_event
from infra.runner.sqs_poller import sqs_event
from infra.template import Stack
from model_build import Built, publish
from tests.support.models import built_linear, built_pricing_demand, built_risk, store_scored_history
from tests.unit.fakes import FakeAws, FakeDynamoDB, FakeSSMProvider, sqs_message

NAME = "demo-scorer"
STACK = Stack()


@dataclass(frozen=True)
class Need:
    """One IAM permission a call needs: action on resource, with request context for conditions."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        extra = f" {dict(self.context)}" if self.context else ""
        return f"{self.action} on {self.resource}{extra}"


# ------------------------------------------------------------------------------- calls -> needs


def needs_of(aws: FakeAws, ssm: FakeSSMProvider) -> set[Need]:
    env = STACK.env
    needs: set[Need] = set()
    for operation, params in aws.dynamodb.log:
        table = f"arn:{env.partition}:dynamodb:{env.region}:{env.account}:table/{params['TableName']}"
        needs.add(Need(f"dynamodb:{operation}", table))
    for operation, params in aws.s3.log:
        bucket = f"arn:{env.partition}:s3:::{params['Bucket']}"
        if operation in ("GetObject", "HeadObject", "DownloadFile"):  # all authorised as s3:GetObject
            needs.add(Need("s3:GetObject", f"{bucket}/{params['Key']}"))
            if params["missing"] and operation != "DownloadFile":
                # Without ListBucket S3 answers 403, not the 404 the code tells apart (ArtifactStore._missing);
                # download() treats every error alike, so it does not need it.
                needs.add(Need("s3:ListBucket", bucket))
        elif operation == "ListObjectsV2":
            needs.add(Need("s3:ListBucket", bucket, (("s3:prefix", params["Prefix"]),)))
        else:
            needs.add(Need(f"s3:{operation}", f"{bucket}/{params['Key']}"))
    for sent in aws.sqs.sent:
        queue = sent["QueueUrl"].rstrip("/").rsplit("/", 1)[-1]
        needs.add(Need("sqs:SendMessage", f"arn:{env.partition}:sqs:{env.region}:{env.account}:{queue}"))
    for call in aws.sns.calls:
        needs.add(Need("sns:Publish", call["TopicArn"]))  # PublishBatch is authorised as sns:Publish
    for name, _, _ in ssm.calls:
        needs.add(Need("ssm:GetParameter", f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter{name}"))
    return needs


# ------------------------------------------------------------------------------- policy evaluation


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sam_template_statements(name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    """The SAM policy templates the template uses, expanded as SAM expands them."""
    env = STACK.env
    if name == "SSMParameterReadPolicy":
        parameter = str(STACK.resolve(args["ParameterName"]))
        return [
            {"Effect": "Allow", "Action": "ssm:DescribeParameters", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
                "Resource": f"arn:{env.partition}:ssm:{env.region}:{env.account}:parameter/{parameter}",
            },
        ]
    raise AssertionError(f"unknown SAM policy template {name}: teach test_iam_agreement.py how SAM expands it")


def statements_of(logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in _as_list(STACK.resources[logical_id]["Properties"].get("Policies") or []):
        if isinstance(policy, str):
            raise AssertionError(f"{logical_id}: managed policy {policy} cannot be checked here")
        for key, value in policy.items():
            if key == "Statement":
                statements.extend(STACK.resolve(s) for s in _as_list(value))
            else:
                statements.extend(_sam_template_statements(key, value))
    return statements


def _conditions_hold(statement: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, patterns in tests.items():
            if key not in context:
                return False
            value = context[key]
            if operator == "StringLike":
                if not any(fnmatch.fnmatchcase(value, p) for p in _as_list(patterns)):
                    return False
            elif operator == "StringEquals":
                if value not in _as_list(patterns):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here")
    return True


def allows(statements: list[dict[str, Any]], need: Need) -> bool:
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(need.action.lower(), str(a).lower()) for a in _as_list(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(need.resource, str(r)) for r in _as_list(statement["Resource"])):
            continue
        if _conditions_hold(statement, dict(need.context)):
            return True
    return False


# ------------------------------------------------------------------------------- the scenarios


@dataclass
class World:
    aws: FakeAws
    ssm: FakeSSMProvider
    bucket: str
    registry: ModelRegistry
    pricing_demand: Built
    risk: list[Built]

    def forget_setup(self) -> None:
        self.aws.dynamodb.log.clear()
        self.aws.s3.log.clear()
        self.aws.sqs.sent.clear()
        self.aws.sns.calls.clear()
        self.ssm.calls.clear()

    def serve_risk(self) -> None:
        """Publish and activate risk-model and risk-graph, as `commerce-ai up` does."""
        for built in self.risk:
            publish(ArtifactStore(self.bucket, s3=self.aws.s3), built, "v1")
            self.registry.register_candidate(built.name, "v1", "sha", {})
            self.registry.activate(built.name, "v1")

    def serve_pricing_demand(self) -> None:
        """Publish the pricing-demand artifact and activate it, as `commerce-ai up` does."""
        publish(ArtifactStore(self.bucket, s3=self.aws.s3), self.pricing_demand, "v1")
        self.registry.register_candidate(DEMAND_MODEL, "v1", "sha", {})
        self.registry.activate(DEMAND_MODEL, "v1")

    def put_skus(self, skus: dict[str, tuple[float, float]]) -> None:
        """The pricing catalog holds `skus` (sku -> (price, cost))."""
        catalog = CatalogStore(STACK.physical_name("PricingCatalogTable"), self.aws.dynamodb)
        for sku, (price, cost) in skus.items():
            catalog.put(SkuState(sku=sku, price=price, cost=cost, history=[price]))

    def sku(self, sku: str) -> SkuState:
        """A SKU as stored, read without a logged call (the function's calls are what is checked)."""
        item = self.aws.dynamodb.tables[STACK.physical_name("PricingCatalogTable")][(shard_of(sku),)]
        return _state(sku, _decoded(item, shard_of(sku)).entries[sku])


@pytest.fixture(scope="module")
def pricing_demand(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A real pricing-demand artifact (LightGBM -> ONNX, about a second to build), built once."""
    return built_pricing_demand(tmp_path_factory.mktemp("pricing-demand"), {"oj-2-1": (2.49, 1.79)})


@pytest.fixture(scope="module")
def risk_artifacts(tmp_path_factory: pytest.TempPathFactory) -> list[Built]:
    """Real risk-model and risk-graph artifacts from a small simulated world (about two seconds), built once."""
    return built_risk(tmp_path_factory.mktemp("risk"))


@pytest.fixture
def world(
    monkeypatch: pytest.MonkeyPatch,
    fake_aws: FakeAws,
    tmp_path: Path,
    pricing_demand: Built,
    risk_artifacts: list[Built],
) -> Iterator[World]:
    """In-memory AWS laid out as the template declares it (names, key schemas), with one sound version."""
    tables = {
        STACK.physical_name(logical_id): tuple(k["AttributeName"] for k in resource["Properties"]["KeySchema"])
        for logical_id, resource in STACK.of_type("AWS::DynamoDB::Table").items()
    }
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=tables)
    bucket = STACK.physical_name("ArtifactBucket")
    store = ArtifactStore(bucket, s3=fake_aws.s3)
    publish(store, built_linear(tmp_path / "v1"), "v1")
    publish(store, built_linear(tmp_path / "v2"), "v2")
    ssm = FakeSSMProvider({})
    monkeypatch.setattr(http, "_ssm_provider", ssm)
    loaders = (service.demand_loader, risk_service.store, risk_service.model_loader, risk_service.graph_loader)
    for cached in loaders:  # these live as long as a warm container: one per scenario
        cached.cache_clear()
    registry = ModelRegistry(STACK.physical_name("ModelRegistryTable"), fake_aws.dynamodb)
    yield World(fake_aws, ssm, bucket, registry, pricing_demand, risk_artifacts)
    for cached in loaders:
        cached.cache_clear()


def configure(monkeypatch: pytest.MonkeyPatch, logical_id: str, tmp_path: Path) -> Any:
    fn = STACK.function(logical_id)
    for key, value in fn.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", fn.physical_name)
    settings.cache_clear()
    return load_handler(fn.code_uri, fn.module, fn.attribute), LambdaContext(fn.physical_name)


def notification(bucket: str, version: str) -> str:
    key = f"models/{NAME}/{version}/manifest.json"
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    )


def run_artifact_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactEventsFunction", tmp_path)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    messages = [
        sqs_message("m1", notification(world.bucket, "v1")),
        sqs_message("m2", notification(world.bucket, "v1")),  # redelivery: conditional put fails, GetItem
        sqs_message("m3", notification(world.bucket, "v2")),
        sqs_message("m4", notification(world.bucket, "v3")),  # deleted since: a 404, quarantined
    ]
    result = handler(sqs_event(messages, STACK.arn("ArtifactEventsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": []}


def run_reconcile(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "ArtifactReconcileFunction", tmp_path)
    world.aws.s3.objects.pop((world.bucket, f"models/{NAME}/v2/model.onnx"))  # v2 is incomplete
    world.forget_setup()
    assert handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)["checked"] == 2


def run_registry_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RegistryApiFunction", tmp_path)
    world.ssm.values[STACK.function("RegistryApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.registry.register_candidate(NAME, "v1", "sha", {})
    world.registry.register_candidate(NAME, "v2", "sha", {})
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        assert client.http.get("/health").status_code == 200
        assert client.http.get("/models").status_code == 200
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v1"}').status_code == 200
        assert client.http.post(f"/models/{NAME}/activate", headers=admin, body=b'{"version": "v2"}').status_code == 200
        assert client.http.get(f"/models/{NAME}").status_code == 200
        assert client.http.post(f"/models/{NAME}/rollback", headers=admin).status_code == 200


def run_competitor_prices(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "CompetitorPricesFunction", tmp_path)
    world.put_skus({"oj-2-1": (2.49, 1.79)})  # a catalog SKU: its competitor index is kept on it
    world.forget_setup()
    sample = json.loads((Path(__file__).resolve().parents[2] / "events/pricing/competitor_price.json").read_text())
    hour_ago = datetime.now(UTC) - timedelta(hours=1)  # fresh, so the SKU's competitor index is updated
    messages = [
        sqs_message("m1", json.dumps({**sample, "observed_at": f"{hour_ago:%Y-%m-%dT%H:%M:%SZ}"})),
        sqs_message("m2", json.dumps({**sample, "observed_at": f"{hour_ago - timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"})),
        sqs_message("m3", "{not json"),  # poison: fails alone
    ]
    result = handler(sqs_event(messages, STACK.arn("CompetitorPricesQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert world.sku("oj-2-1").competitor_index == sample["price"]  # the shard write was made, and held


def run_pricing_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "PricingApiFunction", tmp_path)
    world.ssm.values[STACK.function("PricingApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.serve_pricing_demand()
    world.forget_setup()
    admin = {"Content-Type": "application/json", "x-api-key": "k"}
    with Client(handler) as client:
        created = client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"price": 2.49, "cost": 1.79}')
        assert created.status_code == 200
        assert client.http.put("/pricing/skus/oj-2-1", headers=admin, body=b'{"floor": 1.99}').status_code == 200
        assert client.http.get("/pricing/skus?limit=1").status_code == 200
        assert client.http.get("/pricing/prices/oj-2-1").status_code == 200
        assert client.http.get("/pricing/prices/oj-2-1/history?limit=5").status_code == 200
        quoted = client.http.post(
            "/pricing/quote", headers={"Content-Type": "application/json"}, body=b'{"sku": "oj-2-1", "prices": [2.6]}'
        )
        assert quoted.status_code == 200
        # A dry run over the whole catalog (Scan), then a real one for one SKU (BatchGetItem, the audit's
        # BatchWriteItem, the conditional UpdateItem).
        dry = client.http.post("/pricing/reprice", headers=admin, body=b'{"dry_run": true}')
        assert dry.status_code == 200 and json.loads(dry.body)["applied"] == 1
        done = client.http.post("/pricing/reprice", headers=admin, body=b'{"skus": ["oj-2-1"]}')
        assert done.status_code == 200 and json.loads(done.body)["applied"] == 1
        history = json.loads(client.http.get("/pricing/prices/oj-2-1/history").body)
        assert [d["outcome"] for d in history["decisions"]] == ["applied"]
        # The whole catalog: queued (the tick's status, then the message), and the statuses read back.
        queued = client.http.post("/pricing/reprice", headers=admin)
        assert queued.status_code == 202, queued.body
        assert len(world.aws.sqs.sent) == 1
        assert client.http.get("/pricing/ticks?limit=5").status_code == 200
        assert client.http.get(f"/pricing/ticks/{json.loads(queued.body)['tick']}").status_code == 200


def run_repricing(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RepricingFunction", tmp_path)
    world.serve_pricing_demand()
    world.put_skus({"cut": (3.0, 1.0), "keep": (2.0, 1.2), "raise": (2.0, 1.9)})
    world.forget_setup()
    event = scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r")
    summary = handler(event, context)
    assert (summary["applied"], summary["kept"], summary["failed"]) == (2, 1, 0)
    assert world.sku("cut").price == 2.7  # the conditional shard write was made, and held
    # Lambda retries the same event: the tick is the same, nothing is applied twice.
    again = handler(event, context)
    assert (again["already_done"], again["applied"]) == (2, 0)
    # A whole-catalog reprice an admin queued, and a poison request beside it.
    sample = (Path(__file__).resolve().parents[2] / "events/pricing/reprice_request.json").read_text()
    messages = [sqs_message("m1", sample), sqs_message("m2", '{"tick": "yesterday"}')]
    result = handler(sqs_event(messages, STACK.arn("RepriceRequestsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def _risk_sample(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "events/risk" / name).read_text())


def _now_stamp(offset: timedelta = timedelta(0)) -> str:
    return f"{datetime.now(UTC) + offset:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + "Z"


def run_risk_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "RiskApiFunction", tmp_path)
    world.ssm.values[STACK.function("RiskApiFunction").environment["ADMIN_API_KEY_PARAMETER"]] = "k"
    world.serve_risk()
    world.forget_setup()
    plain = {"Content-Type": "application/json"}
    admin = {**plain, "x-api-key": "k"}
    login = {**_risk_sample("login.json"), "timestamp": _now_stamp(timedelta(minutes=-5))}
    payment = {**_risk_sample("transaction.json"), "timestamp": _now_stamp()}
    with Client(handler) as client:
        assert client.http.post("/risk/events", headers=plain, body=json.dumps(login).encode()).status_code == 200
        scored = client.http.post("/risk/score", headers=plain, body=json.dumps(payment).encode())
        assert scored.status_code == 200, scored.body
        # twice: the second BatchGetItem finds the stored result and answers with it
        again = client.http.post("/risk/score", headers=plain, body=json.dumps(payment).encode())
        assert json.loads(again.body)["replayed"] is True
        label = {"transaction_id": payment["transaction_id"], "is_fraud": True, "source": "chargeback"}
        assert client.http.post("/risk/labels", headers=admin, body=json.dumps(label).encode()).status_code == 200
        looked_up = client.http.get(f"/risk/transactions/{payment['transaction_id']}", headers=admin)
        assert looked_up.status_code == 200
        block = client.http.put("/risk/blocklist/device/d-9", headers=admin, body=b'{"blocked": true}')
        assert block.status_code == 200


def run_risk_bulk_scoring(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskBulkScoringFunction", tmp_path)
    world.serve_risk()
    world.forget_setup()
    sample = _risk_sample("transaction.json")
    blocked = {**sample, "transaction_id": "t-blocked", "amount": 25000.0, "timestamp": _now_stamp()}  # declined
    messages = [
        sqs_message("m1", json.dumps({**sample, "timestamp": _now_stamp()})),
        sqs_message("m2", json.dumps(blocked)),
        sqs_message("m3", "{not json"),  # poison: fails alone
    ]
    result = handler(sqs_event(messages, STACK.arn("RiskTransactionsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    assert len(world.aws.sqs.sent) == 1  # the decline went to the outcomes queue


def run_risk_account_events(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskAccountEventsFunction", tmp_path)
    world.forget_setup()
    login = {**_risk_sample("login.json"), "timestamp": _now_stamp(), "event_id": "e-1"}
    messages = [
        sqs_message("m1", json.dumps(login)),
        sqs_message("m2", json.dumps({**login, "success": "maybe"})),
        sqs_message("m3", json.dumps(login)),  # the same event again: its claim is found taken (GetItem)
    ]
    result = handler(sqs_event(messages, STACK.arn("RiskAccountEventsQueue"), STACK.env.region), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def run_risk_weekly(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskWeeklyFunction", tmp_path)
    monkeypatch.setattr(risk_weekly, "MIN_GRAPH_PAYMENTS", 1)  # one payment is enough to activate here
    world.serve_risk()  # the previous snapshot is active; the job publishes and activates the next one
    results = risk_service.store()
    scored = {"score": 0.9, "decision": "decline", "timestamp": _now_stamp(), "user_id": "u-1", "device_id": "d-1"}
    results.claim("t-1", {**scored, "ip": "203.0.113.7", "merchant_id": "m-1"}, datetime.now(UTC))
    results.label("t-1", True, "chargeback", datetime.now(UTC))
    world.forget_setup()
    summary = handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)
    assert (summary["outcome"], summary["payments"], summary["labelled_fraud"]) == ("activated", 1, 1)
    assert world.registry.active_version("risk-graph") == summary["graph_version"]


def run_risk_challenger(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "RiskChallengerFunction", tmp_path)
    world.serve_risk()  # the champion
    frauds = store_scored_history(risk_service.store(), datetime.now(UTC))
    assert frauds >= 20
    world.forget_setup()
    summary = handler(scheduled_event("arn:aws:events:us-east-1:123456789012:rule/r"), context)
    assert summary["outcome"] in ("candidate", "activated"), summary  # trained, published, registered


def _stream_sample(name: str) -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parents[2] / "events/stream" / name).read_text())


def run_behaviour_events_api(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "BehaviourEventsApiFunction", tmp_path)
    env = STACK.function("BehaviourEventsApiFunction").environment
    world.ssm.values[env["INGEST_API_KEY_PARAMETER"]] = "ingest"
    world.ssm.values[env["ADMIN_API_KEY_PARAMETER"]] = "admin"
    world.forget_setup()
    body = _stream_sample("api_post_events.json")["body"].encode()
    with Client(handler) as client:
        for key in ("ingest", "admin"):  # the admin key is read only when the ingest key does not match
            response = client.http.post(
                "/events", headers={"Content-Type": "application/json", "x-api-key": key}, body=body
            )
            assert response.status_code == 202, response.body
    assert len(world.aws.sns.calls) == 2


def run_behaviour_events_queue(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "BehaviourEventsQueueFunction", tmp_path)
    world.forget_setup()
    sample = _stream_sample("sqs_behaviour_event.json")
    sample["Records"].append({**sample["Records"][0], "messageId": "poison", "body": "{not json"})
    result = handler(sample, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert len(world.aws.sns.calls) == 2


def run_behaviour_archive(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, context = configure(monkeypatch, "BehaviourArchiveFunction", tmp_path)
    world.forget_setup()
    result = handler(_stream_sample("sqs_archive_events.json"), context)
    assert result == {"batchItemFailures": []}
    bucket = STACK.physical_name("BehaviourEventsBucket")
    assert [k for b, k in world.aws.s3.objects if b == bucket and k.startswith("events/dt=2026-12-05/")]


SCENARIOS = {
    "BehaviourEventsApiFunction": run_behaviour_events_api,
    "BehaviourEventsQueueFunction": run_behaviour_events_queue,
    "BehaviourArchiveFunction": run_behaviour_archive,
    "RiskApiFunction": run_risk_api,
    "RiskChallengerFunction": run_risk_challenger,
    "RiskWeeklyFunction": run_risk_weekly,
    "RiskBulkScoringFunction": run_risk_bulk_scoring,
    "RiskAccountEventsFunction": run_risk_account_events,
    "RepricingFunction": run_repricing,
    "PricingApiFunction": run_pricing_api,
    "CompetitorPricesFunction": run_competitor_prices,
    "ArtifactEventsFunction": run_artifact_events,
    "ArtifactReconcileFunction": run_reconcile,
    "RegistryApiFunction": run_registry_api,
}


def test_every_function_has_a_scenario() -> None:
    assert set(SCENARIOS) == {fn.logical_id for fn in STACK.functions()}


@pytest.mark.parametrize("logical_id", sorted(SCENARIOS))
def test_the_policy_allows_every_call_the_code_makes(
    logical_id: str, world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the function configured as the template configures it, when its main paths run,
    SCENARIOS[logical_id](world, monkeypatch, tmp_path)
    needs = needs_of(world.aws, world.ssm)
    assert needs, "the scenario made no AWS calls"
    # then its own policy allows each call it made.
    statements = statements_of(logical_id)
    missing = sorted(str(n) for n in needs if not allows(statements, n))
    assert missing == [], f"{logical_id} would get AccessDenied for: {missing}"


# ------------------------------------------------------------------------------- the checker itself


def test_the_checker_refuses_what_no_statement_allows() -> None:
    statements = statements_of("ArtifactReconcileFunction")
    bucket = STACK.arn("ArtifactBucket")
    table = STACK.arn("ModelRegistryTable")
    # ListBucket on the artifact bucket (it holds only models/) turns a missing key into a 404, not a 403
    assert allows(statements, Need("s3:ListBucket", bucket, (("s3:prefix", "models/"),)))
    assert allows(statements, Need("s3:ListBucket", bucket))
    assert not allows(statements, Need("s3:ListBucket", STACK.arn("ArtifactBucket") + "-other"))
    assert allows(statements, Need("s3:GetObject", f"{bucket}/models/x/v1/manifest.json"))
    assert not allows(statements, Need("s3:GetObject", f"{bucket}/other/file"))
    assert not allows(statements, Need("s3:PutObject", f"{bucket}/models/x"))
    assert allows(statements, Need("dynamodb:Query", table))
    assert not allows(statements, Need("dynamodb:DeleteItem", table))
    assert not allows(statements, Need("dynamodb:Query", STACK.arn("HealthTable")))


def test_sam_policy_templates_are_expanded() -> None:
    statements = statements_of("RegistryApiFunction")
    parameter = f"arn:aws:ssm:{STACK.env.region}:{STACK.env.account}:parameter/commerce-ai/admin-api-key"
    assert allows(statements, Need("ssm:GetParameter", parameter))
    assert not allows(statements, Need("ssm:GetParameter", parameter + "-other"))
    assert not allows(statements_of("ArtifactEventsFunction"), Need("ssm:GetParameter", parameter))


def test_module_state_is_not_shared_between_scenarios() -> None:
    # The registry app caches its SSM provider in commerce_ai.http; conftest resets it per test.
    assert http._ssm_provider is None
    assert "commerce_ai.http" in sys.modules


def test_the_repricing_scenario_needs_the_batch_and_conditional_calls_its_policy_grants(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_repricing(world, monkeypatch, tmp_path)
    needs = needs_of(world.aws, world.ssm)
    catalog, audit = STACK.arn("PricingCatalogTable"), STACK.arn("PricingTable")
    wanted = {
        Need("dynamodb:Scan", catalog),
        Need("dynamodb:PutItem", catalog),
        Need("dynamodb:BatchWriteItem", audit),
    }
    assert wanted <= needs
    # Without the statement that grants the audit's BatchWriteItem, the check would flag the function.
    statements = [s for s in statements_of("RepricingFunction") if s.get("Sid") != "WriteDecisionAudit"]
    assert not allows(statements, Need("dynamodb:BatchWriteItem", audit))
    assert all(allows(statements, n) for n in needs - {Need("dynamodb:BatchWriteItem", audit)})

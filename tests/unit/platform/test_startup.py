"""infra.startup: `up --only` derives each function's capability from template.yaml, and a start-up
says in HealthTable what it still waits for."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from commerce_ai import health
from infra import startup
from infra.template import Stack
from model_build.cache import BuildCache
from model_build.progress import Stages
from tests.unit.fakes import FakeAws


def test_every_function_belongs_to_the_capability_of_its_code_folder(stack: Stack) -> None:
    by_capability: dict[str, set[str]] = {}
    for name in sorted(startup.known_capabilities(stack)):
        served = startup.selected_functions(stack, {name})
        assert served is not None
        by_capability[name] = served
    assert by_capability["registry"] == {
        "RegistryApiFunction",
        "RegistryAdminFunction",  # functions/registry/admin.py
        "ApiDocsFunction",  # functions/registry/docs/
        "CallerAuthorizerFunction",  # functions/registry/authorizer/
        "ArtifactEventsFunction",
        "ArtifactReconcileFunction",
        "UserErasureFunction",  # functions/registry/erasure/: the shop-wide erasure
    }
    assert "RiskChallengerFunction" in by_capability["risk"]  # functions/risk_challenger/: risk's image function
    assert "RepricingFunction" in by_capability["pricing"] and "RiskApiFunction" not in by_capability["pricing"]
    every = {fn.logical_id for fn in stack.functions()}
    assert set().union(*by_capability.values()) == every  # no function is left without a capability


def test_only_adds_the_platform_and_refuses_unknown_names(stack: Stack) -> None:
    platform = {"registry", "stream", "experiments", "catalog"}  # what every capability builds on is always served
    assert startup.parse_only(None, stack) is None
    assert startup.parse_only("pricing", stack) == {"pricing"} | platform
    assert startup.parse_only(" pricing , risk ", stack) == {"pricing", "risk"} | platform
    served = startup.selected_functions(stack, startup.parse_only("pricing", stack))
    assert served is not None and "RegistryApiFunction" in served and "RiskApiFunction" not in served
    assert "UserErasureFunction" in served  # DELETE /users/{user_id} reaches every capability that is served
    assert startup.selected_builds({"pricing", "registry"}) == ["pricing"]
    with pytest.raises(ValueError, match="unknown capability pricng"):
        startup.parse_only("pricng", stack)
    with pytest.raises(ValueError, match="none given"):
        startup.parse_only(",", stack)


def test_a_startup_waits_for_each_missing_model_and_seeding(stack: Stack, fake_aws: FakeAws, tmp_path: Path) -> None:
    table = stack.physical_name("HealthTable")
    fake_aws.dynamodb.key_schemas[table] = ("function",)
    boot = startup.Startup(stack, Stages(), BuildCache(tmp_path), ["pricing", "risk"])
    missing = boot.begin(build=True)  # an empty bucket: every model is missing
    assert missing == {"pricing": ["pricing-demand"], "risk": ["risk-model", "risk-graph"]}
    expected = ["model pricing-demand", "model risk-model", "model risk-graph", "seeding"]
    assert health.startup_waiting_for(table) == expected
    boot.done_with("model risk-graph")
    assert health.startup_waiting_for(table) == [w for w in expected if w != "model risk-graph"]
    boot.end()
    assert health.startup_waiting_for(table) is None


def test_without_builds_a_startup_waits_for_seeding_only(stack: Stack, fake_aws: FakeAws, tmp_path: Path) -> None:
    table = stack.physical_name("HealthTable")
    fake_aws.dynamodb.key_schemas[table] = ("function",)
    boot = startup.Startup(stack, Stages(), BuildCache(tmp_path), ["risk"])
    assert boot.begin(build=False) == {}
    assert health.startup_waiting_for(table) is None  # risk has nothing to seed: nothing to wait for


def test_stages_are_timed_and_nested_build_stages_belong_to_their_capability() -> None:
    from model_build.progress import stage

    stage_outside_a_display = stage("nothing shown")
    with stage_outside_a_display:  # a build run from a test or script: a no-op
        pass
    stages = Stages()
    with stages:
        with stages.stage("pricing", "build"), stage("read sales data"):
            pass
        with pytest.raises(RuntimeError), stages.stage("risk", "build"):
            raise RuntimeError("no data")
    assert [(t.scope, t.label, t.ok) for t in stages.timings] == [
        ("pricing", "read sales data", True),
        ("pricing", "build", True),
        ("risk", "build", False),
    ]


def test_train_always_rebuilds_and_refreshes_the_build_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import model_build
    from infra import cli
    from model_build import cache as build_cache
    from tests.support.models import built_linear

    builds: list[Path] = []

    def build(workdir: Path) -> list[model_build.Built]:
        builds.append(workdir)
        (workdir / "demo-scorer").mkdir(parents=True, exist_ok=True)
        return [built_linear(workdir / "demo-scorer")]

    module = ModuleType("model_build.demo")
    module.build = build  # type: ignore[attr-defined]
    monkeypatch.setattr(model_build, "capability", lambda name: module)
    key = build_cache.Fingerprint("demo", {"source:model_build/demo/__init__.py": "1"})
    monkeypatch.setattr(build_cache, "fingerprint", lambda name, module=None: key)
    monkeypatch.setattr(cli, "BUILD_CACHE_DIR", tmp_path / "cache")
    for _ in range(2):
        assert cli.main(["train", "demo", "--out", str(tmp_path / "out")]) == 0
    assert len(builds) == 2  # no cache lookup: train always trains
    lookup = BuildCache(tmp_path / "cache").lookup(key)
    assert lookup.built is not None and lookup.built[0].name == "demo-scorer"

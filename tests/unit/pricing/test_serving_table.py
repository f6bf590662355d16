"""The demand model's serving table: per-SKU profiles with a fallback for SKUs the model never saw, and
the validation that makes ModelLoader refuse an artifact whose table cannot be served."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.artifacts.validation import manifest_digest
from commerce_ai.errors import ModelUnavailable
from commerce_ai.pricing.demand import MODEL_NAME, SERVING_TABLE, DemandModel, ServingTable, open_demand_model
from commerce_ai.pricing.features import FEATURE_NAMES
from model_build import Built, manifest_for, publish
from tests.support.pricing import pricing_serving_table
from tests.unit.fakes import FakeDynamoDB, FakeS3

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def table(**changes: Any) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(pricing_serving_table({"oj-known": (2.0, 1.2)}).model_dump_json())
    plain.update(changes)
    return plain


def test_a_known_sku_gets_its_own_profile() -> None:
    served = ServingTable.model_validate(
        table(skus={"oj-known": {"level": 5.1, "brand": 3, "elasticity": -3.2, "price": 2.0, "cost": 1.2}})
    )
    profile = served.profile("oj-known")
    assert (profile.level, profile.brand, profile.elasticity, profile.price) == (5.1, 3, -3.2, 2.0)


def test_an_unknown_sku_falls_back_to_the_default_level_and_pooled_elasticity() -> None:
    served = ServingTable.model_validate(table(default_level=4.2, pooled_elasticity=-1.8))
    profile = served.profile("admin-created-sku")
    assert (profile.level, profile.elasticity, profile.brand) == (4.2, -1.8, 0)
    assert profile.price is None and profile.cost is None


@pytest.mark.parametrize(
    "changes",
    [
        {"pooled_elasticity": 0.5},  # demand that rises with price cannot be priced against
        {"pooled_elasticity": 0.0},
        {"skus": {"oj-known": {"level": 4.6, "elasticity": 1.2}}},
        {"output": "units"},  # the model must predict log units, as the smearing assumes
        {"smearing": 0.0},
        {"skus": {"oj-known": {"level": 4.6, "elasticity": -2.0, "price": -1.0}}},
        {"default_level": None},
    ],
)
def test_an_invalid_table_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ServingTable.model_validate(table(**changes))


def test_weekly_units_are_one_batched_prediction_per_sku_price(demand_model: LoadedModel[DemandModel]) -> None:
    model = demand_model.model
    units = model.weekly_units(["oj-known", "never-seen", "oj-known"], [2.0, 2.0, 3.0], [None, None, 2.5], NOW)
    assert units.shape == (3,)
    assert units[0] == pytest.approx(100, rel=0.25) and units[2] < units[0]
    # the synthetic market has one level for all, so a SKU the model never saw sells like a known one
    assert units[1] == pytest.approx(units[0], rel=0.05)


# ------------------------------------------------------------------------------ the artifact, served


def with_table(built: Built, directory: Path, serving: dict[str, Any] | None) -> Built:
    directory.mkdir(parents=True)
    for path in built.directory.iterdir():
        if path.name != SERVING_TABLE:
            (directory / path.name).write_bytes(path.read_bytes())
    if serving is not None:
        (directory / SERVING_TABLE).write_text(json.dumps(serving))
    return replace(built, directory=directory)


@pytest.mark.parametrize(
    "serving",
    [
        table(pooled_elasticity=0.5),
        table(skus={"oj-known": {"level": 4.6, "elasticity": 2.5}}),
        table(output="units"),
        None,  # no serving table at all
    ],
)
def test_open_demand_model_refuses_an_unservable_table(demand_built: Built, tmp_path: Path, serving: Any) -> None:
    bad = with_table(demand_built, tmp_path / "bad", serving)
    with pytest.raises((ValidationError, FileNotFoundError)):
        open_demand_model(manifest_for(bad, "bad"), bad.directory)


def test_the_loader_refuses_the_artifact_and_keeps_serving_the_last_good_one(
    demand_built: Built, tmp_path: Path
) -> None:
    store = ArtifactStore("artifacts", s3=FakeS3())
    registry = ModelRegistry("registry-table", FakeDynamoDB())
    publish(store, demand_built, "good")
    publish(store, with_table(demand_built, tmp_path / "bad", table(pooled_elasticity=0.5)), "bad")
    for version in ("good", "bad"):
        digest = manifest_digest(store.read_manifest(MODEL_NAME, version))  # what validation records
        registry.register_candidate(MODEL_NAME, version, digest, {})
    loader = ModelLoader(
        MODEL_NAME,
        expected_features=FEATURE_NAMES,
        registry=registry,
        store=store,
        refresh_seconds=0,
        cache_dir=tmp_path / "cache",
        opener=open_demand_model,
    )

    registry.activate(MODEL_NAME, "bad")
    with pytest.raises(ModelUnavailable, match="bad"):
        loader.get()

    registry.activate(MODEL_NAME, "good")
    assert loader.get().version == "good"
    assert loader.get().model.weekly_units(["oj-known"], [2.0], [None], NOW)[0] > 0

    registry.activate(MODEL_NAME, "bad")
    assert loader.get().version == "good", "the last good version keeps serving"
    assert "bad" in loader.refused and "elasticity" in loader.refused["bad"]

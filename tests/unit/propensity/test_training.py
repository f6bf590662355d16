"""The build on a user's purchases file: two calibrated models whose ONNX agrees with the booster."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.propensity.features import FEATURE_NAMES
from commerce_ai.propensity.model import HORIZONS, PropensityModel, model_name, open_propensity_model
from model_build import manifest_for
from model_build.propensity.train import lift_top_decile
from tests.support.propensity import built_propensity


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PropensityModel]:
    from model_build.propensity import build
    from tests.support.propensity import purchases_csv

    root = tmp_path_factory.mktemp("propensity")
    built = build(root / "out", data=purchases_csv(root / "p.csv"))
    assert [b.name for b in built] == [model_name(h) for h in HORIZONS]
    opened = {}
    for b in built:
        manifest: Manifest = manifest_for(b, "v1")
        assert manifest.input_schema.feature_names == FEATURE_NAMES
        assert {"holdout_roc_auc", "holdout_pr_auc", "holdout_brier", "holdout_lift_top_decile"} <= set(b.metrics)
        opened[b.name] = open_propensity_model(manifest, b.directory)
    return opened


def test_scores_are_probabilities_with_reasons_both_ways(models: dict[str, PropensityModel]) -> None:
    model = models["propensity-28d"]
    busy = list(model.policy.reference)
    busy[FEATURE_NAMES.index("purchase_count_30d")] = 6
    busy[FEATURE_NAMES.index("days_since_last_purchase")] = 1
    probability, up, down = model.score(busy)
    assert 0 <= probability <= 1
    assert all(r.effect > 0 for r in up) and all(r.effect < 0 for r in down)
    assert model.policy.calibration.slope > 0 and 0 < model.policy.prior < 1


def test_top_decile_lift() -> None:
    import numpy as np

    y = np.array([1] + [0] * 19)
    assert lift_top_decile(y, np.arange(20)[::-1].astype(float)) == pytest.approx(10.0)


def test_the_support_build_is_cached(tmp_path: Path) -> None:
    assert built_propensity(tmp_path) is built_propensity(tmp_path)

"""Demand forecasting and inventory: the global LightGBM quantile model with conformal bands, trained on
Dominick's OJ (pricing's loader) and served as `forecasting-demand`, and the allocation policy trained by
the cross-entropy method in the replay of OJ's holdout weeks, served as `forecasting-allocation`;
`evaluate` writes `reports/forecasting.md` (the rolling-origin comparison with seasonal naive, AutoETS,
Prophet and the Prophet + LightGBM hybrid, the inventory replay and the allocation study)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["forecasting-demand", "forecasting-allocation"]
HORIZONS = 8


def build(workdir: Path) -> list[Built]:
    """Fit the served model on every OJ SKU (all weeks but the last 8, which calibrate the band), then train
    the allocation policy in the study's simulator (`model_build.forecasting.allocation`, fewer iterations)."""
    import warnings

    from commerce_ai.artifacts.manifest import TrainingData
    from commerce_ai.forecasting.features import season_of
    from model_build.forecasting import allocation
    from model_build.forecasting.data import oj_frame, weekly_series
    from model_build.forecasting.export import allocation_built, write_artifact
    from model_build.forecasting.global_model import train_served
    from model_build.pricing.data import OJ_PACKAGE, fingerprint
    from model_build.progress import stage

    warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
    with stage("read Dominick's OJ (pricing's loader)"):
        frame = oj_frame()
        everything = weekly_series(frame)
        series = [s.series for s in everything]
    with stage("fit p10/p50/p90 boosters, conformal band"):
        served, booster, rows = train_served(series, HORIZONS, season_of("W"), "W")
    with stage("export to ONNX"):
        source = f"Dominick's orange juice (Debian {OJ_PACKAGE}), {len(series)} store x brand weekly series"
        training = TrainingData(fingerprint=fingerprint(frame), source=source, rows=rows)
        metrics = {f"conformal_offset_h{h + 1}": round(v, 4) for h, v in enumerate(served.calibration.offsets)}
        demand = write_artifact(booster, served.calibration, workdir, training, metrics)
    with stage("allocation policy: fit at week 136, one-week forecasts of weeks 137-160"):
        markets = allocation.holdout_markets(everything)
    with stage(f"allocation policy: cross-entropy method ({allocation.BUILD_ITERATIONS} iterations), judged"):
        result = allocation.study(markets, allocation.TRAIN_WEEKS[0], allocation.BUILD_ITERATIONS)
        policy = allocation.served_policy(result)
        replayed = TrainingData(
            fingerprint=training.fingerprint,
            source=f"{source}: the replay of weeks {allocation.TRAIN_WEEKS[0]}-{allocation.TEST_WEEKS[1]}, "
            f"{result['stores']} SKUs in {result['brands']} brand markets",
            rows=result["stores"],
        )
        return [demand, allocation_built(policy, workdir, replayed)]


def build_inputs() -> dict[str, str]:
    from model_build.pricing.data import OJ_SHA256

    return {"data:orangeJuice.rda sha256": OJ_SHA256}


def seed(stack: Stack, cache_dir: Path) -> str:
    """Every OJ SKU's history and first forecast in the forecasting table (only what is missing)."""
    from commerce_ai.artifacts.registry import ModelRegistry
    from commerce_ai.artifacts.store import ArtifactStore
    from model_build.forecasting.seeding import seed_forecasts

    return seed_forecasts(
        stack.physical_name("ForecastingTable"),
        ArtifactStore(stack.physical_name("ArtifactBucket")),
        ModelRegistry(stack.physical_name("ModelRegistryTable")),
        cache_dir,
    )


def evaluate(report_dir: Path) -> Path:
    from model_build.forecasting.report import write_report

    return write_report(report_dir)

"""Demand forecasting and inventory: the global LightGBM quantile model with conformal bands, trained on
Dominick's OJ (pricing's loader) and served as `forecasting-demand`; `evaluate` writes
`reports/forecasting.md` (the rolling-origin comparison with seasonal naive, AutoETS, Prophet and the
Prophet + LightGBM hybrid, and the inventory replay)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["forecasting-demand"]
HORIZONS = 8


def build(workdir: Path) -> list[Built]:
    """Fit the served model on every OJ SKU (all weeks but the last 8, which calibrate the band)."""
    import warnings

    from commerce_ai.artifacts.manifest import TrainingData
    from commerce_ai.forecasting.features import season_of
    from model_build.forecasting.data import oj_frame, weekly_series
    from model_build.forecasting.export import write_artifact
    from model_build.forecasting.global_model import train_served
    from model_build.pricing.data import OJ_PACKAGE, fingerprint
    from model_build.progress import stage

    warnings.filterwarnings("ignore", category=RuntimeWarning, module="numpy")
    with stage("read Dominick's OJ (pricing's loader)"):
        frame = oj_frame()
        series = [s.series for s in weekly_series(frame)]
    with stage("fit p10/p50/p90 boosters, conformal band"):
        served, booster, rows = train_served(series, HORIZONS, season_of("W"), "W")
    with stage("export to ONNX"):
        source = f"Dominick's orange juice (Debian {OJ_PACKAGE}), {len(series)} store x brand weekly series"
        training = TrainingData(fingerprint=fingerprint(frame), source=source, rows=rows)
        metrics = {f"conformal_offset_h{h + 1}": round(v, 4) for h, v in enumerate(served.calibration.offsets)}
        return [write_artifact(booster, served.calibration, workdir, training, metrics)]


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

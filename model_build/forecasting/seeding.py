"""After `up`: every OJ SKU's sales history and its first forecast in the forecasting table, and inventory
settings for one SKU (`oj-2-1`) so the README's policy example answers. Only what is missing is added."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from commerce_ai.artifacts.frameworks import open_onnx
from commerce_ai.artifacts.loader import LoadedModel
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.forecasting.jobs import JobLog
from commerce_ai.forecasting.model import CALIBRATION, MODEL_NAME, Calibration, ForecastModel, onnx_predictor
from commerce_ai.forecasting.records import MAX_HISTORY, InventorySettings, SalesHistory
from commerce_ai.forecasting.service import forecast_histories
from commerce_ai.forecasting.store import FORECAST, HISTORY, INVENTORY, ForecastingStore
from model_build.forecasting.data import SkuSeries

EXAMPLE_SKU = "oj-2-1"
SEED_JOB = "seed"
EXAMPLE_INVENTORY = InventorySettings(
    on_hand=40.0, lead_time_periods=1, review_periods=1, service_level=0.95, holding_cost=0.012, stockout_cost=2.49
)


def history_of(s: SkuSeries) -> SalesHistory:
    """The last MAX_HISTORY weeks of a SKU's grid (OJ's own calendar, 1989-1992)."""
    x = s.series
    keep = slice(max(0, x.observed - MAX_HISTORY), x.observed)
    units = [None if np.isnan(u) else round(float(u), 2) for u in x.units[keep]]
    return SalesHistory(
        sku=s.sku,
        freq="W",
        start=x.dates[keep][0].astype(object),
        units=units,
        price=[round(float(p), 4) for p in x.price[keep]],
        promo=[float(p) for p in x.promo[keep]],
        feature=[float(f) for f in x.feature[keep]],
    )


def seed_forecasts(table: str, artifacts: ArtifactStore, registry: ModelRegistry, cache_dir: Path) -> str:
    from model_build.forecasting.data import oj_frame, weekly_series

    store = ForecastingStore(table)
    present = set(store.skus_with(FORECAST))
    version = registry.active_version(MODEL_NAME)
    if version is None:
        return "forecasts: no forecasting-demand model yet"
    missing = [s for s in weekly_series(oj_frame()) if s.sku not in present]
    histories = [history_of(s) for s in missing]
    manifest = artifacts.read_manifest(MODEL_NAME, version)
    directory = artifacts.download(manifest, cache_dir)
    model = ForecastModel(
        onnx_predictor(open_onnx(manifest, directory)), Calibration.from_json((directory / CALIBRATION).read_bytes())
    )
    loaded = LoadedModel(name=MODEL_NAME, version=version, manifest=manifest, model=model, directory=directory)
    forecasts = forecast_histories(histories, loaded, datetime.now(UTC), job="seed")
    written = store.put_many([*((h.sku, HISTORY, h) for h in histories), *((f.sku, FORECAST, f) for f in forecasts)])
    jobs = JobLog(table)
    if forecasts and jobs.start(SEED_JOB, chunks=1, skus=len(forecasts), now=datetime.now(UTC)):
        jobs.finish_chunk(SEED_JOB, 0)  # the seed's forecasts, one job of one chunk (GET /forecasts/jobs/seed)
    if store.inventory(EXAMPLE_SKU) is None:
        store.put_many(
            [(EXAMPLE_SKU, INVENTORY, EXAMPLE_INVENTORY.model_copy(update={"updated_at": datetime.now(UTC)}))]
        )
    return f"forecasts: {len(forecasts)} SKU(s) added ({written} items)"

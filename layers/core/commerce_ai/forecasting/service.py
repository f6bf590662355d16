"""What forecasting handlers and the seed share: the store, the served model, forecasts and policies."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from commerce_ai import aws
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.forecasting.contract import MAX_PLAN_PERIODS, PolicyInputs, PolicyView
from commerce_ai.forecasting.features import FEATURE_NAMES
from commerce_ai.forecasting.forecast_svg import forecast_svg
from commerce_ai.forecasting.inventory import policy_from_quantiles
from commerce_ai.forecasting.jobs import Chunk, JobLog, chunks_of, job_id, send_chunks
from commerce_ai.forecasting.model import MODEL_NAME, ForecastModel, open_forecast_model
from commerce_ai.forecasting.records import ForecastPeriod, InventorySettings, SalesHistory, StoredForecast
from commerce_ai.forecasting.settings import settings
from commerce_ai.forecasting.store import FORECAST, HISTORY, ForecastingStore
from commerce_ai.messages import parse_json
from commerce_ai.pricing.catalog import CatalogStore
from commerce_ai.pricing.settings import settings as pricing_settings

HORIZON = MAX_PLAN_PERIODS


def store() -> ForecastingStore:
    return ForecastingStore(settings().need("forecasting_table"))


def current_price(sku: str) -> float | None:
    """The pricing capability's current price of `sku` (the what-if's default future price), or None where
    this function is not given pricing's catalog, or pricing does not price the SKU."""
    table = pricing_settings().pricing_catalog_table
    if not table:
        return None
    try:
        return float(CatalogStore(table).get(sku).price)
    except (NotFound, InvalidInput):  # not priced, or an item an operator must correct: the history's price
        return None


@cache
def forecast_loader() -> ModelLoader[ForecastModel]:
    return ModelLoader(MODEL_NAME, expected_features=FEATURE_NAMES, opener=open_forecast_model)


def forecast_model() -> LoadedModel[ForecastModel]:
    """The active forecast model; ModelUnavailable (503) while none can be served."""
    return forecast_loader().get()


def forecast_histories(
    histories: list[SalesHistory],
    loaded: LoadedModel[ForecastModel],
    run_at: datetime,
    job: str | None = None,
    periods: int = HORIZON,
) -> list[StoredForecast]:
    """Each history's next `periods` at its last price and no promotion, in one batch through the model."""
    if not histories:
        return []
    quantiles = loaded.model.forecast([h.series(periods) for h in histories], periods)
    out = []
    for history, q in zip(histories, quantiles, strict=True):
        dates = history.dates(periods)[-periods:]
        out.append(
            StoredForecast(
                sku=history.sku,
                freq=history.freq,
                model_version=loaded.version,
                run_at=run_at,
                job=job,
                periods=[
                    ForecastPeriod(date=d, p10=float(a), p50=float(b), p90=float(c))
                    for d, (a, b, c) in zip(dates, q, strict=True)
                ],
            )
        )
    return out


def job_log() -> JobLog:
    return JobLog(settings().need("forecasting_table"))


def start_daily(scheduled: datetime) -> dict[str, int | str]:
    """List every SKU with a history, record the job (once) and queue its chunks (again on a retry: a chunk
    is idempotent)."""
    skus = store().skus_with(HISTORY)
    job = job_id(scheduled)
    chunks = chunks_of(job, skus)
    created = job_log().start(job, len(chunks), len(skus), datetime.now(UTC))
    sent = send_chunks(aws.client("sqs"), settings().need("forecast_chunks_queue_url"), chunks)
    return {"job": job, "skus": len(skus), "chunks": sent, "new": int(created)}


def run_chunk(body: str) -> dict[str, int | str | bool]:
    """Forecast one chunk's SKUs and count the chunk done (once); InvalidInput for a bad message."""
    chunk = parse_json(body, Chunk, "forecast chunk")
    histories = store().histories(chunk.skus)
    loaded = forecast_model()
    forecasts = forecast_histories(list(histories.values()), loaded, datetime.now(UTC), job=chunk.job)
    store().put_many((f.sku, FORECAST, f) for f in forecasts)
    counted = job_log().finish_chunk(chunk.job, chunk.chunk)
    return {"job": chunk.job, "chunk": chunk.chunk, "forecast": len(forecasts), "counted": counted}


def latest_forecast(sku: str) -> StoredForecast:
    found = store().forecast(sku)
    if found is None:
        raise NotFound(f"SKU {sku} has no forecast yet")
    return found


def plot_svg(sku: str, history_periods: int) -> str:
    """The SKU's latest forecast drawn after its last `history_periods` periods (404 without a forecast)."""
    found = store()
    forecast = latest_forecast(sku)
    history = found.history(sku)
    shown = history_periods if history is not None else 0
    past_dates = history.dates()[len(history.units) - shown :] if history is not None and shown else []
    past = history.units[len(history.units) - shown :] if history is not None and shown else []
    unit = "week" if forecast.freq == "W" else "day"
    periods = forecast.periods
    return forecast_svg(
        f"{sku}: units per {unit}, p10-p90 band; {forecast.model_version}, run {forecast.run_at:%Y-%m-%d %H:%M}Z",
        past_dates,
        past,
        [p.date for p in periods],
        [p.p10 for p in periods],
        [p.p50 for p in periods],
        [p.p90 for p in periods],
    )


def put_inventory(sku: str, settings_: InventorySettings) -> InventorySettings:
    stamped = settings_.model_copy(update={"updated_at": datetime.now(UTC)})
    store().put_inventory(sku, stamped)
    return stamped


def policy(sku: str) -> PolicyView:
    """The SKU's policy from its latest forecast and its inventory settings (404 if either is missing)."""
    found = store()
    inventory = found.inventory(sku)
    if inventory is None:
        raise NotFound(f"SKU {sku} has no inventory settings (PUT /inventory/{sku})")
    forecast = found.forecast(sku)
    if forecast is None:
        raise NotFound(f"SKU {sku} has no forecast yet")
    p = forecast.periods
    computed = policy_from_quantiles(
        [x.p10 for x in p],
        [x.p50 for x in p],
        [x.p90 for x in p],
        inventory.lead_time_periods,
        inventory.review_periods,
        inventory.service_level,
    )
    used = p[: inventory.lead_time_periods + inventory.review_periods]
    return PolicyView.model_validate(
        {
            "sku": sku,
            "safety_stock": computed.safety_stock,
            "reorder_point": computed.reorder_point,
            "order_up_to": computed.order_up_to,
            "order_quantity": max(0.0, computed.order_up_to - inventory.on_hand),
            "expected_demand": computed.mean_demand,
            "demand_sd": computed.demand_sd,
            "inputs": PolicyInputs.model_validate(
                {
                    "inventory": {"sku": sku, **inventory.model_dump()},
                    "forecast_model_version": forecast.model_version,
                    "forecast_run_at": forecast.run_at,
                    "periods": [x.model_dump() for x in used],
                }
            ),
        }
    )

"""What forecasting handlers and the seed share: the store, the served model, forecasts and policies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache

from commerce_ai import aws
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.forecasting import allocation
from commerce_ai.forecasting.chart import forecast_png
from commerce_ai.forecasting.contract import (
    MAX_PLAN_PERIODS,
    AllocationRequest,
    AllocationView,
    PolicyInputs,
    PolicyView,
)
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


@cache
def allocation_loader() -> ModelLoader[allocation.AllocationPolicy]:
    """The allocation policy the forecasting build trained and published (`forecasting-allocation`)."""
    return ModelLoader(
        allocation.ALLOCATION_MODEL, expected_features=allocation.FEATURES, opener=allocation.open_allocation_policy
    )


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


@dataclass(frozen=True)
class PlotData:
    """What a chart of the SKU's latest forecast draws: its last periods of history, then the forecast."""

    title: str
    past_dates: list[date]
    past: list[float | None]
    forecast: StoredForecast


def plot_data(sku: str, history_periods: int) -> PlotData:
    """The SKU's latest forecast after its last `history_periods` periods (404 without a forecast)."""
    found = store()
    forecast = latest_forecast(sku)
    history = found.history(sku)
    shown = history_periods if history is not None else 0
    past_dates = history.dates()[len(history.units) - shown :] if history is not None and shown else []
    past = history.units[len(history.units) - shown :] if history is not None and shown else []
    unit = "week" if forecast.freq == "W" else "day"
    title = f"{sku}: units per {unit}, p10-p90 band; {forecast.model_version}, run {forecast.run_at:%Y-%m-%d %H:%M}Z"
    return PlotData(title, past_dates, past, forecast)


def plot_svg(sku: str, history_periods: int) -> str:
    """The chart as SVG, with its title, dates and units as text."""
    data = plot_data(sku, history_periods)
    periods = data.forecast.periods
    return forecast_svg(
        data.title,
        data.past_dates,
        data.past,
        [p.date for p in periods],
        [p.p10 for p in periods],
        [p.p50 for p in periods],
        [p.p90 for p in periods],
    )


def plot_png(sku: str, history_periods: int) -> bytes:
    """The chart as PNG: the built-in chart the S3 path also draws (no text: the JSON route has the numbers)."""
    data = plot_data(sku, history_periods)
    periods = data.forecast.periods
    return forecast_png(data.past, [p.p10 for p in periods], [p.p50 for p in periods], [p.p90 for p in periods])


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


def whole_units(shares: list[float], supply: int) -> list[int]:
    """Shares of `supply` as whole units that sum to it (largest remainder: floors, then the biggest
    fractions get the units left)."""
    floors = [int(max(v, 0.0)) for v in shares]
    left = supply - sum(floors)
    by_fraction = sorted(range(len(shares)), key=lambda i: (-(shares[i] - floors[i]), i))
    for i in by_fraction[: max(left, 0)]:
        floors[i] += 1
    return floors


def allocate(request: AllocationRequest) -> AllocationView:
    """The supply across the SKUs' stores for each one's next forecast period, by the served policy (or the
    one named); 404 naming the SKUs without a forecast or a history, 503 without an allocation policy.
    Three BatchGetItems."""
    import numpy as np  # the ml layer; lazily, so core-only functions never load it

    served = allocation_loader().get()
    found = store()
    forecasts = found.forecasts(request.skus)
    histories = found.histories(request.skus)
    missing = [s for s in request.skus if s not in forecasts or s not in histories]
    if missing:
        raise NotFound(f"no forecast or sales history for {len(missing)} SKU(s): {', '.join(missing[:5])}")
    inventories = found.inventories(s for s in request.skus if s not in (request.on_hand or {}))
    on_hand, sources = [], []
    for sku in request.skus:
        if request.on_hand is not None and sku in request.on_hand:
            on_hand.append(float(request.on_hand[sku]))
            sources.append("request")
        elif sku in inventories:
            on_hand.append(inventories[sku].on_hand)
            sources.append("inventory")
        else:
            on_hand.append(0.0)
            sources.append("none")
    nexts = [forecasts[s].periods[0] for s in request.skus]
    p10, p50, p90 = (np.array([getattr(p, q) for p in nexts]) for q in ("p10", "p50", "p90"))
    held, price = np.array(on_hand), np.array([histories[s].price[-1] for s in request.skus])
    name = request.policy or served.model.served_policy
    shares = served.model.allocator(name)(p10, p50, p90, held, price, float(request.supply))
    units = whole_units([float(v) for v in shares], request.supply)
    needs = allocation.need(p10, p50, p90, held)
    return AllocationView.model_validate(
        {
            "policy": name,
            "served_policy": served.model.served_policy,
            "policy_version": served.version,
            "supply": request.supply,
            "allocated": sum(units),
            "model_versions": sorted({forecasts[s].model_version for s in request.skus}),
            "stores": [
                {
                    "sku": sku,
                    "units": units[i],
                    "date": nexts[i].date,
                    "p10": nexts[i].p10,
                    "p50": nexts[i].p50,
                    "p90": nexts[i].p90,
                    "on_hand": on_hand[i],
                    "on_hand_source": sources[i],
                    "need": float(needs[i]),
                    "price": float(price[i]),
                }
                for i, sku in enumerate(request.skus)
            ],
        }
    )

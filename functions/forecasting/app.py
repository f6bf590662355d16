"""Forecasting HTTP API (API Gateway -> Chalice): a SKU's latest forecast and its chart, what-if forecasts
under a price or promotion plan, and the operators' inventory reads (the policy with its inputs, and the
allocation of a distribution centre's stock across stores). Setting a SKU's inventory is `admin.py`'s, a
function of its own whose role may write the table (README, "Least privilege"); this one may only read it."""

from __future__ import annotations

from datetime import UTC, datetime

from chalice import Response

from commerce_ai.errors import NotFound
from commerce_ai.forecasting import service
from commerce_ai.forecasting.contract import (
    AllocationRequest,
    AllocationView,
    ForecastView,
    JobPath,
    JobView,
    PlotQuery,
    PolicyView,
    SkuPath,
    WhatIfRequest,
    WhatIfView,
)
from commerce_ai.forecasting.plot_media import PNG, SVG, chart_media_type
from commerce_ai.http import error_response, json_api

app = json_api("forecasting")
app.api.binary_types.append("image/*")  # so that `Accept: image/*` takes the PNG past Chalice's binary check


@app.route("/forecasts/{sku}", path_params=SkuPath, methods=["GET"], response=ForecastView, errors=(404,))
def get_forecast(sku: str) -> ForecastView:
    """A SKU's latest forecast: p10/p50/p90 per future period, the model version and the run time."""
    return ForecastView.model_validate(service.latest_forecast(sku).model_dump(exclude={"job"}))


@app.route(
    "/forecasts/{sku}/plot",
    path_params=SkuPath,
    query=PlotQuery,
    methods=["GET"],
    produces=(PNG, SVG),
    errors=(404, 406),
)
def get_forecast_plot(sku: str, query: PlotQuery) -> Response:
    """The SKU's latest forecast as a chart: its recent history, p50 and the p10-p90 band.

    PNG by default (`image/png`, 720 x 320, no text); SVG (with its title, dates and units) when the Accept
    header prefers `image/svg+xml`, or names no type at all. Through API Gateway the PNG arrives as bytes
    when the request's first Accept type is `image/png` (the API's binary media types)."""
    media_type = chart_media_type(app.request().headers.get("accept"))
    if media_type == PNG:
        return Response(body=service.plot_png(sku, query.history), status_code=200, headers={"Content-Type": PNG})
    if media_type == SVG:
        svg = service.plot_svg(sku, query.history)
        return Response(body=svg, status_code=200, headers={"Content-Type": f"{SVG}; charset=utf-8"})
    return error_response(406, "NotAcceptableError", f"the chart is {PNG} or {SVG}; the Accept header takes neither")


@app.route("/forecasts/jobs/{job}", path_params=JobPath, methods=["GET"], response=JobView, errors=(404,))
def get_job(job: str) -> JobView:
    """A forecast job's progress: its chunks, how many are done, and when it started."""
    status = service.job_log().status(job)
    if status is None:
        raise NotFound(f"forecast job {job} does not exist")
    state = "done" if status.done >= status.chunks else "running"
    return JobView.model_validate({**status.model_dump(), "state": state})


@app.route("/forecasts/what-if", methods=["POST"], request=WhatIfRequest, response=WhatIfView, errors=(404, 503))
def what_if(body: WhatIfRequest) -> WhatIfView:
    """The SKU's forecast under a price and promotion plan, beside its forecast at the last price."""
    history = service.store().history(body.sku)
    if history is None:
        raise NotFound(f"SKU {body.sku} has no sales history")
    loaded = service.forecast_model()
    periods = body.periods
    prices = [float(p) for p in (body.prices or [])]
    source, fill = "request", prices[-1] if prices else None
    if fill is None:
        current = service.current_price(body.sku)
        source, fill = ("pricing", current) if current is not None else ("history", float(history.price[-1]))
    prices += [fill] * (periods - len(prices))
    promotions = [float(p) for p in (body.promotions or [])]
    promotions += [0.0] * (periods - len(promotions))
    now = datetime.now(UTC)
    baseline = service.forecast_histories([history], loaded, now, periods=periods)[0]
    quantiles = loaded.model.forecast([history.series(periods, prices[:periods], promotions[:periods])], periods)[0]
    dates = history.dates(periods)[-periods:]
    return WhatIfView.model_validate(
        {
            "sku": body.sku,
            "freq": history.freq,
            "model_version": loaded.version,
            "prices": prices[:periods],
            "price_source": source,
            "promotions": promotions[:periods],
            "periods": [
                {"date": d, "p10": float(a), "p50": float(b), "p90": float(c)}
                for d, (a, b, c) in zip(dates, quantiles, strict=True)
            ],
            "baseline_p50_total": sum(p.p50 for p in baseline.periods),
            "plan_p50_total": float(quantiles[:, 1].sum()),
        }
    )


@app.route(
    "/inventory/{sku}/policy", path_params=SkuPath, methods=["GET"], admin=True, response=PolicyView, errors=(404,)
)
def get_policy(sku: str) -> PolicyView:
    """Safety stock, reorder point and order-up-to from the latest forecast, with the inputs used."""
    return service.policy(sku)


@app.route(
    "/inventory/allocations",
    methods=["POST"],
    admin=True,
    request=AllocationRequest,
    response=AllocationView,
    errors=(404, 503),
)
def allocate(body: AllocationRequest) -> AllocationView:
    """A distribution centre's stock across stores for their next forecast period, by the served policy.

    Whole units that sum to `supply`, from each SKU's latest forecast (p10/p50/p90 of its next period), its
    stock on hand (the request's, else its inventory settings', else 0) and its last price. The served
    policy is the one the forecasting build's allocation study chose (the learned policy when it beat both
    heuristics, README "Allocation"), read from the active `forecasting-allocation` version; `policy` names
    another, to compare. Nothing is stored: the answer is a plan for the caller to ship. 404 names the SKUs
    without a forecast or a history; 503 while no allocation policy can be served."""
    return service.allocate(body)

"""What pricing handlers share: the stores and the served demand model, built once per container."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from pydantic import BaseModel

from commerce_ai import aws
from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.errors import Conflict, safe_reason
from commerce_ai.idempotency import request_digest
from commerce_ai.messages import parse_json
from commerce_ai.pricing.catalog import CatalogStore, SkuSettings, SkuState
from commerce_ai.pricing.competitors import competitor_index, tracked
from commerce_ai.pricing.decision_archive import DecisionArchive
from commerce_ai.pricing.decisions import DecisionLog, DecisionRecord, recent_records
from commerce_ai.pricing.demand import MODEL_NAME, DemandModel, open_demand_model
from commerce_ai.pricing.features import FEATURE_NAMES
from commerce_ai.pricing.observations import CompetitorPrice, CompetitorPriceStore, Outcome
from commerce_ai.pricing.price_events import PriceChange, PriceEvents
from commerce_ai.pricing.quotes import QuoteRequest, quote
from commerce_ai.pricing.reprice_requests import Answer, RepriceRequests
from commerce_ai.pricing.settings import settings
from commerce_ai.pricing.tick_chunks import CHUNK_ATTEMPTS, TickChunk, plan_chunks, send_chunks
from commerce_ai.pricing.tick_log import RepriceRequest, Source, TickLog, TickStatus
from commerce_ai.pricing.ticks import TickReport, run_tick, tick_stamp
from commerce_ai.telemetry import logger


def catalog() -> CatalogStore:
    return CatalogStore(settings().need("pricing_catalog_table"))


def decision_log() -> DecisionLog:
    return DecisionLog(settings().need("pricing_table"))


def decision_archive() -> DecisionArchive:
    return DecisionArchive(settings().need("decision_log_bucket"))


def price_events() -> PriceEvents:
    return PriceEvents(settings().need("price_changes_topic_arn"), settings().need("pricing_table"))


@cache
def demand_loader() -> ModelLoader[DemandModel]:
    return ModelLoader(MODEL_NAME, expected_features=FEATURE_NAMES, opener=open_demand_model)


def demand_model() -> LoadedModel[DemandModel]:
    """The active demand model; ModelUnavailable (503) while none can be served."""
    return demand_loader().get()


def configure_sku(sku: str, settings_given: SkuSettings, now: datetime) -> SkuState:
    """An admin's `PUT /pricing/skus/{sku}`. A new price for an existing SKU is a decision like a tick's:
    it goes into the SKU's decision history (old and new price, by an admin, the note as the reason, at
    `now`) and is pinned unless `pinned` is false (ticks keep a pinned price until `pinned_until`); and it is
    published on PriceChangesTopic as a tick's change is (rules `admin_price`)."""
    state, old_price = catalog().configure_with_change(sku, settings_given, now)
    if old_price is not None:
        until = f"until {state.pinned_until:%Y-%m-%dT%H:%M:%SZ}" if state.pinned_until else "until unpinned"
        pin = f"; pinned {until}" if state.pinned else "; not pinned: the next tick may change it"
        record = DecisionRecord(
            sku=sku,
            tick=tick_stamp(now),
            outcome="applied",
            old_price=old_price,
            proposed=state.price,
            applied=state.price,
            rules=["admin_price", *(["admin_pin"] if state.pinned else [])],
            reason=f"set by an admin: {settings_given.note or 'no note given'}{pin}",
        )
        decision_log().write([record], now)
        # Published like a tick's change, on the same topic, under the admin's "tick" (the moment it was set).
        price_events().publish([PriceChange.of(record)])
    return state


def tick_log() -> TickLog:
    return TickLog(settings().need("pricing_table"))


def price_view(sku: str) -> dict[str, Any]:
    """A SKU's catalog entry with its newest decision (None before its first tick); NotFound if unknown."""
    state = catalog().get(sku)
    last = decision_log().latest(sku, recent_records(sku, state.recent_changes))
    return {**state.public(), "last_decision": last.model_dump() if last else None}


def price_history(sku: str, limit: int, cursor: str | None) -> tuple[list[DecisionRecord], str | None]:
    """A SKU's changes (its catalog item's recent ones), blocks and failures, newest first, paged; NotFound
    for a SKU the catalog does not have (rather than an empty history)."""
    state = catalog().get(sku)
    return decision_log().history(sku, limit, cursor, recent_records(sku, state.recent_changes))


MAX_COMPETITORS_SHOWN = 50  # the most recently seen; the index counts at most MAX_COMPETITORS of them


def competitor_prices(sku: str, now: datetime) -> dict[str, Any]:
    """The latest price of each competitor seen for a catalog SKU, newest first, which of them count in
    the competitor index now (fresh, and among the most recently seen), and the index itself."""
    catalog().get(sku)  # NotFound for a SKU the catalog does not have
    latest = CompetitorPriceStore(settings().need("pricing_table")).latest(sku)
    counted = {o.competitor for o in tracked(latest, now)}
    newest_first = sorted(latest.values(), key=lambda o: (o.observed_at, o.competitor), reverse=True)
    shown = [
        {"competitor": o.competitor, "price": o.price, "observed_at": o.observed_at, "counted": o.competitor in counted}
        for o in newest_first[:MAX_COMPETITORS_SHOWN]
    ]
    return {"sku": sku, "competitor_index": competitor_index(latest, now), "competitors": shown}


def quote_prices(request: QuoteRequest, now: datetime) -> dict[str, Any]:
    """Weekly units, revenue, profit and the guard rails' verdict at each candidate price, from the served
    demand model with the SKU's market members' current catalog prices in its cross-price inputs."""
    model = demand_model()
    members = model.model.table.market_members(request.sku)
    state, catalog_prices = catalog().get_with_market(request.sku, members)
    return {
        "sku": request.sku,
        "current_price": state.price,
        "cost": state.cost,
        "period": "week",
        "model_version": model.version,
        "quotes": quote(state, model.model, request.prices, now, catalog_prices=catalog_prices),
    }


def reprice_now(
    now: datetime,
    tick: str,
    skus: list[str] | None = None,
    dry_run: bool = False,
    source: Source = "admin",
    attempt: int | None = None,
) -> TickReport:
    """Run a tick now; one that writes is recorded in the tick log: running, then done or failed."""
    running = TickStatus(tick=tick, state="running", source=source, updated_at=now, attempt=attempt)
    if not dry_run:
        tick_log().record(running)
    try:
        report = run_tick(
            catalog(),
            decision_log(),
            demand_model(),
            now,
            tick,
            skus=skus,
            dry_run=dry_run,
            archive=None if dry_run else decision_archive(),
            events=None if dry_run else price_events(),
        )
    except Exception as exc:
        if not dry_run:
            error = safe_reason(exc, 500)  # shown by GET /pricing/ticks: no resource names
            tick_log().record(running.model_copy(update={"state": "failed", "error": error}))
        raise
    if not dry_run:
        tick_log().record(running.model_copy(update={"state": "done", "summary": report.summary()}))
    return report


def reprice_once(
    key: str | None, request: BaseModel, now: datetime, run: Callable[[], tuple[int, dict[str, Any]]]
) -> tuple[int, dict[str, Any]]:
    """`run` the reprice `request` (its answer: HTTP status and body) once per idempotency `key`: a retry of
    the same request gets the first answer, a different request under the key a 409 (KeyReused); a run
    that fails gives the key back for its retry (`commerce_ai.pricing.reprice_requests`)."""
    if key is None:
        return run()
    requests = RepriceRequests(settings().need("pricing_table"))
    digest = request_digest(request)
    first = requests.claim(key, digest, now)
    if first is not None:
        return first.status, first.body
    try:
        status, body = run()
    except Exception:
        requests.release(key, digest)
        raise
    requests.answer(key, digest, Answer(status, body))
    return status, body


PENDING_LOOKBACK = 20  # newest tick statuses searched for a pending whole-catalog reprice (~5 h of ticks)


def pending_reprice(now: datetime) -> TickStatus | None:
    """A whole-catalog reprice an admin asked for that has not finished: queued, or running from the
    reprice queue (only those carry an attempt), stale runs read as the queue will treat them."""
    statuses, _ = tick_log().recent(PENDING_LOOKBACK, None)
    for status in (s.as_of(now) for s in statuses):
        if status.source == "admin" and (
            status.state == "queued" or (status.state == "running" and status.attempt is not None)
        ):
            return status
    return None


def request_reprice(now: datetime) -> TickStatus:
    """Queue a whole-catalog tick for the repricing function (it may outlast an HTTP request). One at a
    time: while one is pending another would only reprice the same catalog again behind it."""
    pending = pending_reprice(now)
    if pending is not None:
        raise Conflict(
            f"a whole-catalog reprice is already {pending.state} (tick {pending.tick}, "
            f"/pricing/ticks/{pending.tick}); ask again when it is done"
        )
    status = TickStatus(tick=tick_stamp(now), state="queued", source="admin", updated_at=now)
    if not tick_log().record_new(status):
        raise Conflict(f"a tick named {status.tick} already exists; ask again")
    message = RepriceRequest(tick=status.tick).model_dump_json()
    try:
        aws.client("sqs").send_message(QueueUrl=settings().need("reprice_queue_url"), MessageBody=message)
    except Exception as exc:  # nothing will run it: say so, rather than leave it queued for good
        error = f"not queued: {type(exc).__name__}"
        tick_log().record(status.model_copy(update={"state": "failed", "error": error}))
        raise
    return status


def plan_tick(now: datetime, tick: str, source: Source = "schedule", attempt: int | None = None) -> dict[str, Any]:
    """Plan a whole-catalog tick and queue its chunks for the chunk workers (`tick_chunks`): the status is
    recorded running, then, once every chunk is queued, with the number of chunks, which the workers count
    off. A retried plan sends every chunk again (a chunk already counted is skipped) and resets no count."""
    running = TickStatus(tick=tick, state="running", source=source, updated_at=now, attempt=attempt)
    log = tick_log()
    log.record(running)
    try:
        model = demand_model()
        chunks = plan_chunks(tick, catalog().names(), model.model.table)
        send_chunks(aws.client("sqs"), settings().need("reprice_chunks_queue_url"), chunks)
    except Exception as exc:
        log.record(running.model_copy(update={"state": "failed", "error": safe_reason(exc, 500)}))
        raise
    planned = running.model_copy(update={"chunks": len(chunks), "model_version": model.version})
    log.record(planned)
    skus = sum(len(c.skus) for c in chunks)
    return {"tick": tick, "chunks": len(chunks), "skus": skus, "model_version": model.version, "source": source}


def run_requested(body: str, now: datetime, attempt: int = 1) -> dict[str, Any] | None:
    """Plan a queued whole-catalog tick under the name it was given when asked for. A redelivered request
    of a tick already planned (or done) plans nothing and returns None: its chunks are on their way."""
    request = parse_json(body, RepriceRequest, "reprice request")
    found = tick_log().find(request.tick)
    if found is not None and (found.chunks is not None or found.state == "done"):
        logger.info("reprice request already planned: not planned again", extra={"tick": request.tick})
        return None
    return plan_tick(now, request.tick, source="admin", attempt=attempt)


def run_chunk(body: str, now: datetime, attempt: int = 1) -> dict[str, Any] | None:
    """Decide and write one chunk of a scaled-out tick, and count it on the tick's status once. A chunk
    already counted done runs nothing (None). A chunk that fails its last attempt is counted failed before
    its message goes to the DLQ; redriven and done, it is counted done instead. A message that does not
    parse is refused (InvalidInput) and reaches the DLQ without counting anything."""
    chunk = parse_json(body, TickChunk, "reprice chunk")
    log = tick_log()
    state = log.chunk_state(chunk.tick, chunk.chunk)
    if state == "done":
        logger.info("reprice chunk already done", extra={"tick": chunk.tick, "chunk": chunk.chunk})
        return None
    try:
        report = run_tick(
            catalog(),
            decision_log(),
            demand_model(),
            now,
            chunk.tick,
            skus=chunk.skus,
            archive=decision_archive(),
            events=price_events(),
            chunk=chunk.chunk,
            consistent=False,  # half the read units; the revision condition refuses a stale read's change
        )
    except Exception:
        if attempt >= CHUNK_ATTEMPTS:
            log.fail_chunk(chunk.tick, chunk.chunk, now)
        raise
    summary = {**report.summary(), "chunk": chunk.chunk}
    log.finish_chunk(chunk.tick, chunk.chunk, summary, state == "failed", now)
    return summary


def record_competitor_price(observation: CompetitorPrice, now: datetime) -> Outcome:
    """Store the observation; when it is the competitor's latest, refresh the SKU's competitor index on
    its catalog entry (one query of the SKU's latest prices), which the tick then reads with the catalog."""
    store = CompetitorPriceStore(settings().need("pricing_table"))
    outcome = store.record(observation)
    if outcome == "latest":
        latest = store.latest(observation.sku)
        index = competitor_index(latest, now)
        if index is not None:
            # Stamped with the oldest observation it uses, so the tick's freshness check covers every one.
            oldest = min(o.observed_at for o in tracked(latest, now))
            catalog().set_competitor_index(observation.sku, index, oldest)
    return outcome

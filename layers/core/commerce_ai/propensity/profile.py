"""A user's behaviour profile: the aggregates the stream keeps per user, folded one event at a time.

`Profile.apply(event, facts)` is the only way events enter a profile, in training (archive events folded
in time order, `commerce_ai.propensity.features.profile_from_events`) and in serving (the stream consumer
folds each live event into the stored profile). `commerce_ai.propensity.features` turns a profile into the
model's feature vector at a given time, so both paths share one definition.

What is kept, and why it is bounded (a profile is one DynamoDB item, well under 400 KB):
- per-day buckets for the last `DAY_BUCKETS` days and per-hour buckets for the last `HOUR_BUCKETS` hours
  (counts per event type, purchase amount and units, cart value, new sessions): the windowed features;
- lifetime counters (per type, orders, amounts, time-of-day and weekday histograms, prices);
- distinct purchase days (the last `PURCHASE_DAYS`): recency, frequency and inter-purchase gaps;
- the last `SESSIONS` sessions (start, end, depth, funnel steps);
- category and brand affinities (the `AFFINITY_KEYS` most active), search terms (`SEARCH_TERMS`);
- the last `RECENT_EVENT_IDS` event ids, so applying an event twice changes nothing (the stream's ledger
  catches redeliveries first; this covers a crash between the profile write and the ledger entry).

Late events are placed in their own time's buckets while those are kept (`DAY_BUCKETS` days behind the
newest event seen), and otherwise count in the lifetime aggregates only. Apart from the bounds above, the
result does not depend on the order events arrive in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commerce_ai.stream.schema import EVENT_TYPES, BehaviourEvent

DAY = 86_400
HOUR = 3_600
DAY_BUCKETS = 120  # covers the 90-day window and the 60-day trend comparison
HOUR_BUCKETS = 48
PURCHASE_DAYS = 200
SESSIONS = 50
AFFINITY_KEYS = 40
SEARCH_TERMS = 30
RECENT_EVENT_IDS = 64
TYPE_INDEX = {kind: i for i, kind in enumerate(EVENT_TYPES)}
N_TYPES = len(EVENT_TYPES)
# a bucket: counts per event type, then these
REVENUE, UNITS, CART_VALUE, NEW_SESSIONS = N_TYPES, N_TYPES + 1, N_TYPES + 2, N_TYPES + 3
BUCKET_WIDTH = N_TYPES + 4
# a session: start, end, events, views, carts, purchases
S_START, S_END, S_EVENTS, S_VIEWS, S_CARTS, S_PURCHASES = range(6)


@dataclass(frozen=True)
class ItemFacts:
    """What the shop's catalogue says about an item: its category, brand and list price (each optional)."""

    category: str | None = None
    brand: str | None = None
    list_price: float | None = None


def facts_from_properties(event: BehaviourEvent) -> ItemFacts:
    """Facts a producer put in the event's `properties` (`category`, `brand`, `list_price`): the fallback
    when the catalogue does not know the item."""
    props = event.properties or {}
    category, brand, price = props.get("category"), props.get("brand"), props.get("list_price")
    return ItemFacts(
        category if isinstance(category, str) else None,
        brand if isinstance(brand, str) else None,
        float(price) if isinstance(price, int | float) and not isinstance(price, bool) and price > 0 else None,
    )


def _bump(table: dict[str, list[float]], key: str, purchase: bool, limit: int) -> None:
    entry = table.setdefault(key, [0.0, 0.0])
    entry[0] += 1
    if purchase:
        entry[1] += 1
    if len(table) > limit:  # drop the least active key (ties: the smallest name, so the result is deterministic)
        weakest = min(table, key=lambda k: (table[k][0], table[k][1], k))
        del table[weakest]


@dataclass
class Profile:
    """One user's aggregates (see the module docstring). Times are epoch seconds."""

    user_id: str
    first_seen: float | None = None
    last_seen: float | None = None
    first_purchase: float | None = None
    last_purchase: float | None = None
    newest: float = 0.0  # the newest event time seen: what bucket retention counts back from
    totals: list[float] = field(default_factory=lambda: [0.0] * BUCKET_WIDTH)
    days: dict[int, list[float]] = field(default_factory=dict)
    hours: dict[int, list[float]] = field(default_factory=dict)
    purchase_days: list[int] = field(default_factory=list)  # sorted, distinct
    orders: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, math.inf])  # n, sum, sum of squares, min
    max_order: float = 0.0
    sessions: dict[str, list[float]] = field(default_factory=dict)
    session_count: int = 0
    session_ids: list[str] = field(default_factory=list)  # kept sessions, for counting new ones exactly
    hour_of_day: list[float] = field(default_factory=lambda: [0.0] * 24)
    weekday: list[float] = field(default_factory=lambda: [0.0] * 7)
    purchase_hour: list[float] = field(default_factory=lambda: [0.0] * 24)
    purchase_weekday: list[float] = field(default_factory=lambda: [0.0] * 7)
    categories: dict[str, list[float]] = field(default_factory=dict)  # events, purchases
    brands: dict[str, list[float]] = field(default_factory=dict)
    last_category: str | None = None
    items_viewed: dict[str, float] = field(default_factory=dict)  # bounded like affinities
    items_bought: dict[str, float] = field(default_factory=dict)
    searches: dict[str, float] = field(default_factory=dict)
    query_chars: float = 0.0
    last_search: float | None = None
    last_cart: float | None = None
    paid: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # n, sum, sum of squares of unit prices
    viewed_prices: list[float] = field(default_factory=lambda: [0.0, 0.0])  # n, sum
    list_ratio: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # n, sum of paid/list, n below list
    ratings: list[float] = field(default_factory=lambda: [0.0, 0.0])  # n, sum
    recent_ids: list[str] = field(default_factory=list)

    # -- folding ---------------------------------------------------------------------------------------

    def apply(self, event: BehaviourEvent, facts: ItemFacts | None = None) -> bool:
        """Fold one event in; False (and nothing changes) when this event id was applied already."""
        if event.event_id in self.recent_ids:
            return False
        self.recent_ids.append(event.event_id)
        del self.recent_ids[:-RECENT_EVENT_IDS]
        facts = facts or facts_from_properties(event)
        at = event.timestamp.timestamp()
        kind = TYPE_INDEX[event.event_type]
        purchase = event.event_type == "purchase"
        units = float(event.quantity or 1)
        amount = (event.price or 0.0) * units
        self.first_seen = at if self.first_seen is None else min(self.first_seen, at)
        self.last_seen = at if self.last_seen is None else max(self.last_seen, at)
        self.newest = max(self.newest, at)
        earlier_start = self._session_start_moves(event.session_id, at)
        new_session = self._session(event.session_id, at, event.event_type)
        row = [0.0] * BUCKET_WIDTH
        row[kind] = 1.0
        row[NEW_SESSIONS] = 1.0 if new_session or earlier_start is not None else 0.0
        if earlier_start is not None:  # a session counts where it starts: move its mark to this earlier event
            unmark = [0.0] * BUCKET_WIDTH
            unmark[NEW_SESSIONS] = -1.0
            _add(self.totals, unmark)
            self._bucket(self.days, int(earlier_start // DAY), unmark, int(self.newest // DAY) - DAY_BUCKETS)
            self._bucket(self.hours, int(earlier_start // HOUR), unmark, int(self.newest // HOUR) - HOUR_BUCKETS)
        if purchase:
            row[REVENUE], row[UNITS] = amount, units
        if event.event_type == "add_to_cart":
            row[CART_VALUE] = amount
            self.last_cart = at if self.last_cart is None else max(self.last_cart, at)
        _add(self.totals, row)
        self._bucket(self.days, int(at // DAY), row, int(self.newest // DAY) - DAY_BUCKETS)
        self._bucket(self.hours, int(at // HOUR), row, int(self.newest // HOUR) - HOUR_BUCKETS)
        moment = event.timestamp
        self.hour_of_day[moment.hour] += 1
        self.weekday[moment.weekday()] += 1
        if purchase:
            self._purchase(at, amount, units, moment, event, facts)
        if event.event_type == "view" and event.item_id:
            _bump_count(self.items_viewed, event.item_id, AFFINITY_KEYS * 5)
            if event.price is not None:
                self.viewed_prices[0] += 1
                self.viewed_prices[1] += event.price
        if event.event_type == "search" and event.query:
            term = " ".join(event.query.lower().split())[:64]
            _bump_count(self.searches, term, SEARCH_TERMS)
            self.query_chars += len(event.query)
            self.last_search = at if self.last_search is None else max(self.last_search, at)
        if event.event_type == "rating" and event.value is not None:
            self.ratings[0] += 1
            self.ratings[1] += event.value
        if facts.category:
            _bump(self.categories, facts.category, purchase, AFFINITY_KEYS)
            if at >= self.last_seen:
                self.last_category = facts.category
        if facts.brand:
            _bump(self.brands, facts.brand, purchase, AFFINITY_KEYS)
        return True

    def _session_start_moves(self, session_id: str, at: float) -> float | None:
        """The kept session's start when this event comes before it (it arrived late), else None."""
        found = self.sessions.get(session_id)
        return found[S_START] if found is not None and at < found[S_START] else None

    def _session(self, session_id: str, at: float, kind: str) -> bool:
        found = self.sessions.get(session_id)
        new = found is None and session_id not in self.session_ids
        if found is None:
            found = [at, at, 0.0, 0.0, 0.0, 0.0]
            self.sessions[session_id] = found
            if new:
                self.session_count += 1
                self.session_ids.append(session_id)
                del self.session_ids[: -SESSIONS * 4]
        found[S_START], found[S_END] = min(found[S_START], at), max(found[S_END], at)
        found[S_EVENTS] += 1
        found[S_VIEWS] += kind == "view"
        found[S_CARTS] += kind == "add_to_cart"
        found[S_PURCHASES] += kind == "purchase"
        if len(self.sessions) > SESSIONS:  # keep the latest-ending sessions
            oldest = min(self.sessions, key=lambda s: (self.sessions[s][S_END], s))
            del self.sessions[oldest]
        return new

    def _bucket(self, table: dict[int, list[float]], index: int, row: list[float], floor: int) -> None:
        if index > floor:
            _add(table.setdefault(index, [0.0] * BUCKET_WIDTH), row)
            if not any(table[index]):  # an unmarked session start can leave an empty bucket
                del table[index]
        for stale in [k for k in table if k <= floor]:
            del table[stale]

    def _purchase(
        self, at: float, amount: float, units: float, moment: datetime, event: BehaviourEvent, facts: ItemFacts
    ) -> None:
        self.first_purchase = at if self.first_purchase is None else min(self.first_purchase, at)
        self.last_purchase = at if self.last_purchase is None else max(self.last_purchase, at)
        day = int(at // DAY)
        if day not in self.purchase_days:
            self.purchase_days.append(day)
            self.purchase_days.sort()
            del self.purchase_days[:-PURCHASE_DAYS]
        self.orders[0] += 1
        self.orders[1] += amount
        self.orders[2] += amount * amount
        self.orders[3] = min(self.orders[3], amount)
        self.max_order = max(self.max_order, amount)
        self.purchase_hour[moment.hour] += 1
        self.purchase_weekday[moment.weekday()] += 1
        if event.item_id:
            _bump_count(self.items_bought, event.item_id, AFFINITY_KEYS * 5)
        if event.price is not None:
            self.paid[0] += 1
            self.paid[1] += event.price
            self.paid[2] += event.price * event.price
            if facts.list_price:
                self.list_ratio[0] += 1
                self.list_ratio[1] += event.price / facts.list_price
                self.list_ratio[2] += event.price < facts.list_price

    # -- storage ---------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (bucket keys as strings, an infinite minimum as null)."""
        state = {name: getattr(self, name) for name in self.__dataclass_fields__}
        state["days"] = {str(k): v for k, v in self.days.items()}
        state["hours"] = {str(k): v for k, v in self.hours.items()}
        state["orders"] = [*self.orders[:3], None if math.isinf(self.orders[3]) else self.orders[3]]
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Profile:
        values = dict(state)
        values["days"] = {int(k): v for k, v in state["days"].items()}
        values["hours"] = {int(k): v for k, v in state["hours"].items()}
        low = state["orders"][3]
        values["orders"] = [*state["orders"][:3], math.inf if low is None else low]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in values.items() if k in known})


def _add(target: list[float], row: list[float]) -> None:
    for i, value in enumerate(row):
        if value:
            target[i] += value


def _bump_count(table: dict[str, float], key: str, limit: int) -> None:
    table[key] = table.get(key, 0.0) + 1
    if len(table) > limit:
        weakest = min(table, key=lambda k: (table[k], k))
        del table[weakest]

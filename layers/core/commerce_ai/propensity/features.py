"""The propensity features: ONE definition, from a `Profile` at a moment, for training and for serving.

Training folds a user's archived events (or CDNOW's purchases) into a `Profile` with `profile_from_events`
and calls `feature_vector(profile, cutoff)`; serving calls `feature_vector(stored_profile, now)` on the
profile the stream consumer keeps. The names are `FEATURE_NAMES`, in the order of the vector, and each
feature is computed in exactly one place below.

Windows are whole buckets: "7d" is the day buckets of the 7 UTC days ending with the day of `now`, "1h"
the hour bucket of `now` and the one before it. Only events at or before `now` exist in a profile
folded for `now` (training folds exactly those); a serving profile is folded up to the present.
Ratios with nothing to divide by are 0, and recencies with nothing to measure are `NEVER` days.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from commerce_ai.propensity.profile import (
    CART_VALUE,
    DAY,
    HOUR,
    N_TYPES,
    NEW_SESSIONS,
    REVENUE,
    S_CARTS,
    S_END,
    S_EVENTS,
    S_PURCHASES,
    S_START,
    S_VIEWS,
    TYPE_INDEX,
    UNITS,
    ItemFacts,
    Profile,
)
from commerce_ai.stream.schema import EVENT_TYPES, BehaviourEvent

NEVER = 999.0  # days: the recency of something that never happened
WINDOWS: dict[str, int] = {"1h": 0, "1d": 1, "7d": 7, "30d": 30, "90d": 90}  # "1h" counts hours, the rest days
DAY_BLOCKS = 6  # time of day in blocks of 4 hours
FUNNEL_WINDOWS = ("7d", "30d", "lifetime")
TREND_PAIRS = (("7d", 7, 14), ("30d", 30, 60))


def _names() -> list[str]:
    names: list[str] = []
    for window in [*WINDOWS, "lifetime"]:
        names += [f"{kind}_count_{window}" for kind in EVENT_TYPES]
        names += [f"revenue_{window}", f"units_{window}", f"cart_value_{window}", f"sessions_{window}"]
    for window in ("7d", "30d", "90d"):
        names += [f"active_days_{window}", f"purchase_days_{window}"]
    names += [
        "days_since_first_seen",
        "days_since_last_seen",
        "days_since_first_purchase",
        "days_since_last_purchase",
        "days_since_last_cart",
        "days_since_last_search",
        "purchase_day_count",
        "repeat_purchase_days",
        "orders",
        "average_order_value",
        "order_value_std",
        "max_order_value",
        "min_order_value",
        "units_per_order",
        "purchase_days_per_30d_tenure",
        "revenue_per_30d_tenure",
        "gap_mean_days",
        "gap_std_days",
        "gap_median_days",
        "gap_min_days",
        "gap_max_days",
        "gap_last_days",
        "gap_cv",
        "recency_over_mean_gap",
        "days_overdue",
        "purchased_in_first_week",
    ]
    for label, _, _ in TREND_PAIRS:
        names += [
            f"events_trend_{label}",
            f"purchase_trend_{label}",
            f"revenue_trend_{label}",
            f"view_trend_{label}",
            f"active_days_trend_{label}",
        ]
    for window in FUNNEL_WINDOWS:
        names += [
            f"view_to_cart_{window}",
            f"cart_to_purchase_{window}",
            f"view_to_purchase_{window}",
            f"cart_abandonment_{window}",
            f"click_through_{window}",
            f"remove_to_add_{window}",
            f"search_to_purchase_{window}",
        ]
    names += [
        "search_terms",
        "top_search_term_share",
        "average_query_chars",
        "search_share_lifetime",
        "sessions_kept",
        "session_events_mean",
        "session_events_max",
        "session_minutes_mean",
        "session_minutes_max",
        "session_views_mean",
        "sessions_with_cart_share",
        "sessions_with_purchase_share",
        "days_since_last_session_start",
        "last_session_events",
        "last_session_minutes",
        "last_session_has_cart",
        "last_session_has_purchase",
    ]
    names += [f"events_hour_block_{b}_share" for b in range(DAY_BLOCKS)]
    names += [f"events_weekday_{d}_share" for d in range(7)]
    names += [f"purchases_hour_block_{b}_share" for b in range(DAY_BLOCKS)]
    names += [f"purchases_weekday_{d}_share" for d in range(7)]
    names += [
        "weekend_event_share",
        "night_event_share",
        "hour_entropy",
        "weekday_entropy",
        "now_weekday",
        "now_hour",
        "now_hour_block_share",
        "now_weekday_share",
    ]
    names += [
        "categories",
        "brands",
        "top_category_share",
        "top_brand_share",
        "category_entropy",
        "brand_entropy",
        "top_category_purchase_share",
        "categories_purchased",
        "brands_purchased",
        "last_category_is_top",
        "items_viewed",
        "items_bought",
        "repeat_item_purchase_share",
        "views_per_item",
    ]
    names += [
        "unit_price_paid_mean",
        "unit_price_paid_std",
        "unit_price_viewed_mean",
        "paid_over_viewed_price",
        "paid_over_list_price",
        "purchases_below_list_share",
        "ratings",
        "rating_mean",
        "not_interested_share",
        "impressions_per_click",
    ]
    return names


FEATURE_NAMES: list[str] = _names()
N_FEATURES = len(FEATURE_NAMES)


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _entropy(counts: Iterable[float]) -> float:
    values = [c for c in counts if c > 0]
    total = sum(values)
    return -sum(c / total * math.log(c / total) for c in values) if total else 0.0


def _trend(recent: float, previous: float, scale: float) -> float:
    """Smoothed ratio of the recent period to the previous one, per day."""
    return (recent + 1) / (previous * scale + 1)


def _days_since(at: float | None, now: float) -> float:
    return NEVER if at is None else max(0.0, (now - at) / DAY)


def _window_sums(profile: Profile, now: float) -> dict[str, list[float]]:
    """Per window: the summed bucket rows, plus active days (index -2) and purchase days (index -1)."""
    today, hour = int(now // DAY), int(now // HOUR)
    width = len(profile.totals)
    sums: dict[str, list[float]] = {}
    recent = [0.0] * width
    for index, row in profile.hours.items():
        if hour - 1 <= index <= hour:
            for i, v in enumerate(row):
                recent[i] += v
    sums["1h"] = [*recent, 0.0, 0.0]
    for name in WINDOWS:
        if name != "1h":
            sums[name] = [0.0] * (width + 2)
    # previous periods, for the trends: days 8-14 and 31-60 back
    for label, _, _ in TREND_PAIRS:
        sums[f"prev_{label}"] = [0.0] * (width + 2)
    for index, row in profile.days.items():
        age = today - index
        if age < 0:
            continue
        targets = [name for name, days in WINDOWS.items() if name != "1h" and age < days]
        targets += [f"prev_{label}" for label, length, span in TREND_PAIRS if length <= age < span]
        for name in targets:
            target = sums[name]
            for i, v in enumerate(row):
                target[i] += v
            target[-2] += 1
            target[-1] += row[TYPE_INDEX["purchase"]] > 0
    return sums


def feature_vector(profile: Profile, now: datetime | float) -> list[float]:
    """The user's features at `now`, in `FEATURE_NAMES` order."""
    t = now.timestamp() if isinstance(now, datetime) else float(now)
    sums = _window_sums(profile, t)
    out: list[float] = []
    for window in [*WINDOWS, "lifetime"]:
        row = profile.totals if window == "lifetime" else sums[window]
        out += row[:N_TYPES]
        out += [row[REVENUE], row[UNITS], row[CART_VALUE], row[NEW_SESSIONS]]
    for window in ("7d", "30d", "90d"):
        out += [sums[window][-2], sums[window][-1]]
    out += _recency_and_orders(profile, t)
    for label, length, span in TREND_PAIRS:
        now_row, prev_row = sums[label], sums[f"prev_{label}"]
        scale = length / (span - length)  # the previous period can be longer: compare rates per day
        out += [
            _trend(sum(now_row[:N_TYPES]), sum(prev_row[:N_TYPES]), scale),
            *(_trend(now_row[i], prev_row[i], scale) for i in (TYPE_INDEX["purchase"], REVENUE, TYPE_INDEX["view"])),
            _trend(now_row[-2], prev_row[-2], scale),
        ]
    for window in FUNNEL_WINDOWS:
        row = profile.totals if window == "lifetime" else sums[window]
        views, carts = row[TYPE_INDEX["view"]], row[TYPE_INDEX["add_to_cart"]]
        purchases, removes = row[TYPE_INDEX["purchase"]], row[TYPE_INDEX["remove_from_cart"]]
        out += [
            _ratio(carts, views),
            _ratio(purchases, carts),
            _ratio(purchases, views),
            max(0.0, 1.0 - _ratio(purchases, carts)) if carts else 0.0,
            _ratio(row[TYPE_INDEX["click"]], row[TYPE_INDEX["impression"]]),
            _ratio(removes, carts),
            _ratio(purchases, row[TYPE_INDEX["search"]]),
        ]
    out += _search_and_sessions(profile, t)
    out += _time_habits(profile, t)
    out += _affinities(profile)
    out += _prices(profile)
    return out


def _recency_and_orders(profile: Profile, t: float) -> list[float]:
    days = profile.purchase_days
    gaps = [float(b - a) for a, b in itertools.pairwise(days)]
    n_orders, total, squares, low = profile.orders
    mean_order = _ratio(total, n_orders)
    variance = max(0.0, _ratio(squares, n_orders) - mean_order * mean_order)
    tenure_30d = max(1.0, _days_since(profile.first_seen, t) / 30) if profile.first_seen is not None else 1.0
    since_purchase = _days_since(profile.last_purchase, t)
    gap_mean = sum(gaps) / len(gaps) if gaps else 0.0
    gap_std = math.sqrt(sum((g - gap_mean) ** 2 for g in gaps) / len(gaps)) if gaps else 0.0
    ordered = sorted(gaps)
    median = (
        (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2 if ordered else 0.0
    )  # mean of the middle two
    first_week = 1.0 if profile.first_seen is not None and len(days) > 1 and (days[1] - days[0]) <= 7 else 0.0
    return [
        _days_since(profile.first_seen, t),
        _days_since(profile.last_seen, t),
        _days_since(profile.first_purchase, t),
        since_purchase,
        _days_since(profile.last_cart, t),
        _days_since(profile.last_search, t),
        float(len(days)),
        float(max(0, len(days) - 1)),
        n_orders,
        mean_order,
        math.sqrt(variance),
        profile.max_order,
        0.0 if math.isinf(low) else low,
        _ratio(profile.totals[UNITS], n_orders),
        len(days) / tenure_30d,
        profile.totals[REVENUE] / tenure_30d,
        gap_mean,
        gap_std,
        median,
        ordered[0] if ordered else 0.0,
        ordered[-1] if ordered else 0.0,
        gaps[-1] if gaps else 0.0,
        _ratio(gap_std, gap_mean),
        _ratio(since_purchase, gap_mean) if days else 0.0,
        since_purchase - gap_mean if gaps else 0.0,
        first_week,
    ]


def _search_and_sessions(profile: Profile, t: float) -> list[float]:
    searches = profile.totals[TYPE_INDEX["search"]]
    sessions = list(profile.sessions.values())
    n = len(sessions)
    events = [s[S_EVENTS] for s in sessions]
    minutes = [(s[S_END] - s[S_START]) / 60 for s in sessions]
    last = max(sessions, key=lambda s: s[S_END]) if sessions else None
    return [
        float(len(profile.searches)),
        _ratio(max(profile.searches.values(), default=0.0), sum(profile.searches.values())),
        _ratio(profile.query_chars, searches),
        _ratio(searches, sum(profile.totals[:N_TYPES])),
        float(n),
        _ratio(sum(events), n),
        max(events, default=0.0),
        _ratio(sum(minutes), n),
        max(minutes, default=0.0),
        _ratio(sum(s[S_VIEWS] for s in sessions), n),
        _ratio(sum(1 for s in sessions if s[S_CARTS]), n),
        _ratio(sum(1 for s in sessions if s[S_PURCHASES]), n),
        _days_since(max((s[S_START] for s in sessions), default=None), t),
        last[S_EVENTS] if last else 0.0,
        (last[S_END] - last[S_START]) / 60 if last else 0.0,
        1.0 if last and last[S_CARTS] else 0.0,
        1.0 if last and last[S_PURCHASES] else 0.0,
    ]


def _blocks(hours: list[float]) -> list[float]:
    return [sum(hours[b * 4 : b * 4 + 4]) for b in range(DAY_BLOCKS)]


def _shares(counts: list[float]) -> list[float]:
    total = sum(counts)
    return [_ratio(c, total) for c in counts]


def _time_habits(profile: Profile, t: float) -> list[float]:
    moment = datetime.fromtimestamp(t, tz=UTC)
    event_blocks = _shares(_blocks(profile.hour_of_day))
    weekday = _shares(profile.weekday)
    total = sum(profile.weekday)
    return [
        *event_blocks,
        *weekday,
        *_shares(_blocks(profile.purchase_hour)),
        *_shares(profile.purchase_weekday),
        _ratio(profile.weekday[5] + profile.weekday[6], total),
        _ratio(sum(profile.hour_of_day[0:6]), total),
        _entropy(profile.hour_of_day),
        _entropy(profile.weekday),
        float(moment.weekday()),
        float(moment.hour),
        event_blocks[moment.hour // 4],
        weekday[moment.weekday()],
    ]


def _affinities(profile: Profile) -> list[float]:
    categories, brands = profile.categories, profile.brands
    category_events = sum(v[0] for v in categories.values())
    brand_events = sum(v[0] for v in brands.values())
    top_category = max(categories, key=lambda k: (categories[k][0], k), default=None)
    top_brand = max(brands, key=lambda k: (brands[k][0], k), default=None)
    category_purchases = sum(v[1] for v in categories.values())
    bought = profile.items_bought
    return [
        float(len(categories)),
        float(len(brands)),
        _ratio(categories[top_category][0], category_events) if top_category else 0.0,
        _ratio(brands[top_brand][0], brand_events) if top_brand else 0.0,
        _entropy(v[0] for v in categories.values()),
        _entropy(v[0] for v in brands.values()),
        _ratio(categories[top_category][1], category_purchases) if top_category else 0.0,
        float(sum(1 for v in categories.values() if v[1])),
        float(sum(1 for v in brands.values() if v[1])),
        1.0 if top_category is not None and profile.last_category == top_category else 0.0,
        float(len(profile.items_viewed)),
        float(len(bought)),
        _ratio(sum(1 for c in bought.values() if c > 1), len(bought)),
        _ratio(sum(profile.items_viewed.values()), len(profile.items_viewed)),
    ]


def _prices(profile: Profile) -> list[float]:
    n_paid, paid_sum, paid_squares = profile.paid
    mean_paid = _ratio(paid_sum, n_paid)
    mean_viewed = _ratio(profile.viewed_prices[1], profile.viewed_prices[0])
    totals = profile.totals
    return [
        mean_paid,
        math.sqrt(max(0.0, _ratio(paid_squares, n_paid) - mean_paid * mean_paid)),
        mean_viewed,
        _ratio(mean_paid, mean_viewed),
        _ratio(profile.list_ratio[1], profile.list_ratio[0]),
        _ratio(profile.list_ratio[2], profile.list_ratio[0]),
        profile.ratings[0],
        _ratio(profile.ratings[1], profile.ratings[0]),
        _ratio(totals[TYPE_INDEX["not_interested"]], sum(totals[:N_TYPES])),
        _ratio(totals[TYPE_INDEX["impression"]], totals[TYPE_INDEX["click"]]),
    ]


def profile_from_events(
    user_id: str,
    events: Iterable[BehaviourEvent],
    facts: Callable[[BehaviourEvent], ItemFacts | None] | None = None,
) -> Profile:
    """A profile folded from `events` (the training path; serving folds the same events one by one)."""
    profile = Profile(user_id)
    for event in events:
        profile.apply(event, facts(event) if facts else None)
    return profile

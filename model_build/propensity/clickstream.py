"""A documented clickstream simulator: browsing, searching, carts and purchases for the signals CDNOW lacks.

CDNOW has purchases only, so nothing real exercises the profile's views, searches, carts, impressions,
sessions and affinities. This simulator does, for the tests, the e2e demo and the seeded demo users of
`make run`. **Nothing it produces is real data**: figures computed on it say how the code behaves on this
world, not how shoppers behave (README, "Data sources").

The world (every knob is a `ClickstreamConfig` field):
- a catalogue of `categories` x `items_per_category` items, each with a brand (one of `brands`) and a
  list price drawn per category (log-normal around a category level);
- each user has an activity level (sessions per day, log-normal around `sessions_per_day`), category
  interests (a Dirichlet draw), a price sensitivity (how much a discount raises their wish to buy) and a
  purchase cycle: their need to buy grows with the days since their last purchase, up to
  `cycle_days` on average (a renewal process, which is what makes the next purchase predictable);
- **interests drift**: each day, with probability `drift_per_day`, a user's interests move a quarter of
  the way towards a fresh Dirichlet draw;
- **seasonality**: more sessions at weekends (`weekend_lift`), in the evening (an hour-of-day profile
  peaking at 20:00 UTC) and along a yearly wave (`yearly_amplitude`, peaking in late November);
- **a session** (a Poisson number per day): maybe a search (the category's name and a word), then
  impressions of 4 items of one category (chosen by interest), views of some of them (each shown item is
  clicked and viewed with probability `click_rate`), and the **browse-to-buy funnel**: a viewed item is
  added to the cart with a probability that grows with the user's need and the item's discount; a cart is
  sometimes emptied (remove_from_cart), otherwise bought with probability `cart_to_purchase`, else
  abandoned. Events within a session are seconds to minutes apart. Ratings follow some purchases.
- Each event carries `properties` `{"category", "brand", "list_price"}`, so profiles get affinities and
  price sensitivity without the shop's catalogue; prices paid are the list price less any discount.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from commerce_ai.stream.schema import BehaviourEvent

CATEGORY_NAMES = ["shoes", "jackets", "books", "games", "kitchen", "garden", "toys", "audio", "beauty", "sports"]
SEARCH_WORDS = ["sale", "best", "cheap", "new", "gift", "red", "large", "kids"]
HOUR_WEIGHTS = [
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.4,
    0.7,
    0.9,
    1.0,
    1.0,
    1.1,
    1.3,
    1.2,
    1.1,
    1.1,
    1.2,
    1.4,
    1.7,
    2.0,
    2.2,
    1.9,
    1.2,
    0.6,
]


class ClickstreamConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    users: int = 200
    days: int = 60
    start: datetime = datetime(2026, 9, 1, tzinfo=UTC)
    seed: int = 11
    categories: int = 8
    brands: int = 12
    items_per_category: int = 25
    sessions_per_day: float = 0.25
    cycle_days: float = 21.0
    drift_per_day: float = 0.05
    weekend_lift: float = 1.3
    yearly_amplitude: float = 0.2
    click_rate: float = 0.35
    cart_to_purchase: float = 0.45
    user_prefix: str = "sim-user-"


class _Item:
    def __init__(self, item_id: str, category: str, brand: str, list_price: float, discount: float) -> None:
        self.item_id, self.category, self.brand = item_id, category, brand
        self.list_price, self.discount = list_price, discount


def _catalogue(config: ClickstreamConfig, rng: random.Random) -> dict[str, list[_Item]]:
    names = [
        CATEGORY_NAMES[i % len(CATEGORY_NAMES)] + ("" if i < len(CATEGORY_NAMES) else str(i))
        for i in range(config.categories)
    ]
    out: dict[str, list[_Item]] = {}
    for name in names:
        level = math.exp(rng.uniform(math.log(8), math.log(120)))
        out[name] = [
            _Item(
                f"sim-{name}-{i}",
                name,
                f"brand-{rng.randrange(config.brands)}",
                round(level * math.exp(rng.gauss(0, 0.3)), 2),
                rng.choice([0.0, 0.0, 0.0, 0.1, 0.2, 0.3]),
            )
            for i in range(config.items_per_category)
        ]
    return out


def _dirichlet(rng: random.Random, n: int, concentration: float = 0.5) -> list[float]:
    draws = [rng.gammavariate(concentration, 1.0) for _ in range(n)]
    total = sum(draws) or 1.0
    return [d / total for d in draws]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class _Writer:
    """Appends one user's events, a few seconds to minutes apart within the open session."""

    def __init__(self, rng: random.Random, user: str, events: list[BehaviourEvent]) -> None:
        self.rng, self.user, self.events = rng, user, events
        self.counter = 0
        self.session = ""
        self.at = datetime.min.replace(tzinfo=UTC)

    def open(self, session: str, at: datetime) -> None:
        self.session, self.at = session, at

    def emit(self, kind: str, item: _Item | None = None, **fields: object) -> None:
        self.counter += 1
        self.at += timedelta(seconds=self.rng.uniform(5, 120))
        record: dict[str, object] = {
            "event_id": f"{self.user}-e{self.counter}",
            "user_id": self.user,
            "session_id": self.session,
            "event_type": kind,
            "timestamp": self.at,
            **fields,
        }
        if item is not None:
            record.setdefault("item_id", item.item_id)
            record["properties"] = {"category": item.category, "brand": item.brand, "list_price": item.list_price}
        self.events.append(BehaviourEvent.model_validate(record))


def simulate(config: ClickstreamConfig | None = None) -> list[BehaviourEvent]:
    """Every simulated event, in time order (deterministic for a config)."""
    config = config or ClickstreamConfig()
    rng = random.Random(config.seed)
    catalogue = _catalogue(config, rng)
    categories = list(catalogue)
    events: list[BehaviourEvent] = []
    for u in range(config.users):
        user = f"{config.user_prefix}{u}"
        activity = config.sessions_per_day * math.exp(rng.gauss(0, 0.8))
        interests = _dirichlet(rng, len(categories))
        sensitivity = rng.uniform(0, 2)
        cycle = config.cycle_days * math.exp(rng.gauss(0, 0.5))
        since_purchase = rng.uniform(0, cycle)
        writer = _Writer(rng, user, events)
        for day in range(config.days):
            date = config.start + timedelta(days=day)
            if rng.random() < config.drift_per_day:
                fresh = _dirichlet(rng, len(categories))
                interests = [0.75 * a + 0.25 * b for a, b in zip(interests, fresh, strict=True)]
            season = 1 + config.yearly_amplitude * math.cos(2 * math.pi * (date.timetuple().tm_yday - 330) / 365)
            weekend = config.weekend_lift if date.weekday() >= 5 else 1.0
            need = min(1.0, since_purchase / cycle)
            sessions = _poisson(rng, activity * season * weekend * (0.5 + need))
            bought_today = False
            for s in range(sessions):
                hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
                at = date + timedelta(hours=hour, minutes=rng.uniform(0, 59))
                writer.open(f"{user}-d{day}-s{s}", at)
                emit = writer.emit
                category = rng.choices(categories, interests)[0]

                if rng.random() < 0.3:
                    emit("search", query=f"{category} {rng.choice(SEARCH_WORDS)}")
                shown = rng.sample(catalogue[category], 4)
                emit("impression", shown[0], item_ids=[i.item_id for i in shown])
                cart: list[_Item] = []
                for item in shown:
                    if rng.random() >= config.click_rate:
                        continue
                    price = round(item.list_price * (1 - item.discount), 2)
                    emit("click", item)
                    emit("view", item, price=price)
                    wish = 0.05 + 0.35 * need + sensitivity * item.discount * 0.5
                    if rng.random() < wish:
                        emit("add_to_cart", item, price=price, quantity=1)
                        cart.append(item)
                if cart and rng.random() < 0.1:
                    emit("remove_from_cart", cart.pop())
                if cart and rng.random() < config.cart_to_purchase * (0.5 + need):
                    for item in cart:
                        emit("purchase", item, price=round(item.list_price * (1 - item.discount), 2), quantity=1)
                        if rng.random() < 0.2:
                            emit("rating", item, value=float(rng.randint(3, 5)))
                    bought_today = True
            since_purchase = 0.0 if bought_today else since_purchase + 1
    return sorted(events, key=lambda e: (e.timestamp, e.event_id))

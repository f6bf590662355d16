"""A transaction simulator with known ground truth, for training and evaluating fraud scoring offline.

This is a simulator, not data: there is no real labelled fraud data offline (the one public labelled set
we can read, Kaggle's creditcard.csv, is PCA-anonymised and has no users, devices, IPs or merchants; see
`model_build.risk.data`). Every event here is generated, and every fraudulent one carries the scenario
that produced it, so recall can be measured per scenario.

The world (`SimulatorConfig` holds every knob; `simulate(config)` is deterministic given `seed`):

- **Customers** live in one of ~30 cities (weighted towards North America and Europe) at a home point
  near the city centre, with 1-3 devices, 1-2 cards, a home IP and an address. `household_fraction` of
  them share a household of 2-4: same address, home point and home IP, and sometimes a family device or
  a card. Each has a spend level (lognormal) and an activity rate (gamma) in sessions per day.
- **Merchants** each have a category (grocery, restaurant, fashion, electronics, digital goods, travel,
  jewellery, home, pharmacy, gift cards; each with its own lognormal amount), a city and a Zipf
  popularity. Customers keep six favourite merchants and pay there most of the time.
- **Legit sessions** arrive at a diurnal rate. A session is a successful login, sometimes after one or
  two failed attempts (`failed_login_rate`), then 0-n payments a few minutes apart from the same
  device, IP and place. A device is the user's primary one or another of theirs; `new_device_fraction`
  of customers start using a new device part-way through. The IP is the home IP or one of a pool of
  carrier-grade NAT addresses that thousands of users share. `traveller_fraction` of customers take a
  trip to another city (no events while in the air, so legit trips stay below airliner speed) and use a
  hotel IP there; `vpn_rate` of sessions exit through a shared VPN at a random city, which gives some
  legit "impossible travel". `big_purchase_rate` of legit payments are 5-15x the user's usual amount.
  So new devices, travel, failed logins, shared IPs and shared addresses all occur in legit traffic too.

Fraud starts after `warmup_days`, so every victim has history before it is attacked. Each fraudulent
payment is preceded by a login of the same account from the same device, labelled with the same scenario.
Victims of different scenarios are distinct customers. Scenarios (payments' `scenario` column):

1. `amount_outlier` (`n_amount_outliers` payments): a customer with history makes one payment at a
   high-value merchant (electronics, jewellery, travel, gift cards) for 15-50x their median legit amount
   (at least 500). Half come from the user's own primary device and home IP (a household member or
   malware), half from a new device near home (a residential proxy). The amount is the only strong signal.
2. `card_testing` (`n_card_testing_bursts` bursts by `n_card_testers` fraudster accounts): the tester
   logs in from one of its devices through a fresh proxy IP and tries one stolen card (a real customer's
   `card_id`) `card_test_burst_size` times within minutes at one digital-goods merchant, each for
   `card_test_amount` (often exactly 1.00). Tester accounts have no other activity.
3. `account_takeover` (`n_account_takeovers` victims): right after one of the victim's own events (5 min
   up to 80% of the gap to their next one), an attacker logs in from a new device and IP in a city at
   least 2,000 km away, so the implied speed from the victim's previous event exceeds 1,000 km/h; zero to
   three failed attempts come first. Within the next hour the attacker makes `ato_payments` payments
   from that device at high-value merchants for 2.5-6x the victim's median amount (amounts overlap legit
   traffic; the victim's own card).
4. `compromised_merchant` (`n_compromised_merchants` merchants): a merchant in electronics, digital
   goods, gift cards, fashion or home, outside the most popular tenth, is breached; for `compromise_days`
   days, `compromised_frauds_per_day` of its earlier customers are charged there, each after a login to
   their account from a small pool of attacker devices and IPs in one city. Amounts follow the
   merchant's usual distribution; the card is the one the victim used at that merchant. Merchants carry
   `is_compromised` and the window.
5. `fraud_ring` (`n_rings` rings of `ring_size` fake accounts): the accounts share 2-5 devices, 2-4 IPs
   and 1-2 addresses in one city, and over a 14-40 day window run `ring_sessions_per_account` sessions,
   75% at 1-2 colluding merchants (`is_colluding`, `ring_id`): fake orders and brushing (刷单) at that
   merchant's usual amounts, and cash-out (套现) for round amounts of 100-800. Every payment of a ring
   account is labelled `fraud_ring`, including the 25% spent at other merchants as cover.

Ground truth: payments' and logins' `is_fraud` / `scenario`; customers' `role` ("customer",
"card_tester", "ring_member") and `ring_id`; merchants' `is_compromised`, `compromised_from`/`_to`,
`is_colluding` and `ring_id`. Those are labels, never features. Identifiers are randomly permuted, so no
id order reveals a fraudster. IPs are all in 10.0.0.0/8 (private): individual ones in 10.0.0.0-
10.191.255.255, the carrier NAT pool in 10.200.0.0/16 and VPN exits in 10.210.0.0/16. Amounts are in
`currency`. Timestamps are tz-aware UTC, at millisecond precision.

Randomness: `seed` feeds one `numpy.random.SeedSequence`, spawned into an independent stream per part
(population, legit traffic, each scenario), so changing a scenario's parameters leaves the legit
traffic's times, places and amounts unchanged (identifiers are relabelled, and scenarios injected later,
in the order compromised merchants, takeovers, outliers, card testing, rings, may pick other victims).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCENARIOS = ("legit", "amount_outlier", "card_testing", "account_takeover", "compromised_merchant", "fraud_ring")
FRAUD_SCENARIOS = SCENARIOS[1:]
PAYMENT_COLUMNS = (
    "transaction_id",
    "user_id",
    "device_id",
    "ip",
    "merchant_id",
    "amount",
    "currency",
    "timestamp",
    "lat",
    "lon",
    "payment_method",
    "card_id",
    "is_fraud",
    "scenario",
)
LOGIN_COLUMNS = (
    "login_id",
    "event_type",
    "user_id",
    "device_id",
    "ip",
    "timestamp",
    "lat",
    "lon",
    "success",
    "is_fraud",
    "scenario",
)

SECOND_MS = 1_000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
EARTH_RADIUS_KM = 6371.0088

# (name, lat, lon, weight of customers living there)
CITIES: tuple[tuple[str, float, float, float], ...] = (
    ("New York", 40.71, -74.01, 10),
    ("Los Angeles", 34.05, -118.24, 8),
    ("Chicago", 41.88, -87.63, 6),
    ("Houston", 29.76, -95.37, 5),
    ("Phoenix", 33.45, -112.07, 3),
    ("Philadelphia", 39.95, -75.17, 3),
    ("San Francisco", 37.77, -122.42, 4),
    ("Seattle", 47.61, -122.33, 3),
    ("Miami", 25.76, -80.19, 3),
    ("Atlanta", 33.75, -84.39, 3),
    ("Denver", 39.74, -104.99, 3),
    ("Boston", 42.36, -71.06, 3),
    ("Toronto", 43.65, -79.38, 4),
    ("Mexico City", 19.43, -99.13, 3),
    ("London", 51.51, -0.13, 5),
    ("Paris", 48.86, 2.35, 4),
    ("Berlin", 52.52, 13.40, 3),
    ("Madrid", 40.42, -3.70, 2),
    ("Amsterdam", 52.37, 4.90, 2),
    ("Warsaw", 52.23, 21.01, 1),
    ("Bucharest", 44.43, 26.10, 1),
    ("Lagos", 6.52, 3.38, 1),
    ("Sao Paulo", -23.55, -46.63, 2),
    ("Dubai", 25.20, 55.27, 1),
    ("Mumbai", 19.08, 72.88, 1),
    ("Singapore", 1.35, 103.82, 1),
    ("Ho Chi Minh City", 10.82, 106.63, 1),
    ("Manila", 14.60, 120.98, 1),
    ("Tokyo", 35.68, 139.69, 2),
    ("Sydney", -33.87, 151.21, 1),
)
CITY_LAT = np.array([c[1] for c in CITIES])
CITY_LON = np.array([c[2] for c in CITIES])
_CITY_WEIGHT = np.array([c[3] for c in CITIES], dtype=float) / sum(c[3] for c in CITIES)

# category -> (share of merchants, median amount, log-sd of amounts)
CATEGORIES: dict[str, tuple[float, float, float]] = {
    "grocery": (0.18, 45.0, 0.5),
    "restaurant": (0.16, 28.0, 0.5),
    "fashion": (0.12, 65.0, 0.6),
    "electronics": (0.08, 180.0, 0.8),
    "digital_goods": (0.10, 9.0, 0.7),
    "travel": (0.05, 320.0, 0.6),
    "jewellery": (0.03, 350.0, 0.7),
    "home": (0.10, 90.0, 0.7),
    "pharmacy": (0.10, 22.0, 0.5),
    "gift_cards": (0.08, 50.0, 0.5),
}
_CATEGORY_NAMES = tuple(CATEGORIES)
_CATEGORY_SHARE = np.array([v[0] for v in CATEGORIES.values()]) / sum(v[0] for v in CATEGORIES.values())
_CATEGORY_MEDIAN = np.array([v[1] for v in CATEGORIES.values()])
_CATEGORY_SIGMA = np.array([v[2] for v in CATEGORIES.values()])
HIGH_VALUE = ("electronics", "jewellery", "travel", "gift_cards")
BREACHABLE = ("electronics", "digital_goods", "gift_cards", "fashion", "home")
RING_CATEGORIES = ("electronics", "fashion", "home", "gift_cards", "digital_goods", "grocery")

# Share of sessions starting in each UTC hour (a single daily cycle; cities' time zones are ignored).
_DIURNAL = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 3.5, 4, 4, 4.5, 4, 4, 4, 4.5, 5, 5.5, 6, 6, 5, 3.5, 2])
_DIURNAL = _DIURNAL / _DIURNAL.sum()

_INDIVIDUAL_IPS = 192 << 16  # 10.0.0.0 - 10.191.255.255
_MOBILE_NET = (10 << 24) | (200 << 16)
_VPN_NET = (10 << 24) | (210 << 16)
_VPN_EXITS = 50


class SimulatorConfig(BaseModel):
    """Every parameter of the simulated world. Ranges are inclusive (low, high) pairs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=7, description="Seed of the one SeedSequence every random stream derives from.")
    n_customers: int = Field(default=5000, ge=50, description="Genuine customers (fraudster accounts come on top).")
    n_merchants: int = Field(default=300, ge=20, description="Merchants, with categories drawn by CATEGORIES' shares.")
    days: int = Field(default=60, ge=14, description="Length of the simulated period.")
    start: datetime = Field(default=datetime(2026, 1, 5, tzinfo=UTC), description="Start of the period (tz-aware).")
    warmup_days: int = Field(default=7, ge=1, description="No fraud before this day, so victims have history.")
    currency: str = Field(default="USD", min_length=3, max_length=3, description="ISO code of every amount.")

    # legit behaviour
    sessions_per_day: float = Field(default=0.55, gt=0, description="Mean sessions per customer per day.")
    browse_only_rate: float = Field(default=0.3, ge=0, lt=1, description="Share of sessions without a payment.")
    household_fraction: float = Field(
        default=0.15, ge=0, le=1, description="Customers living in 2-4 person households."
    )
    new_device_fraction: float = Field(
        default=0.2, ge=0, le=1, description="Customers adopting a new device mid-period."
    )
    traveller_fraction: float = Field(
        default=0.12, ge=0, le=1, description="Customers taking one trip to another city."
    )
    vpn_rate: float = Field(default=0.004, ge=0, le=1, description="Legit sessions exiting through a shared VPN.")
    failed_login_rate: float = Field(
        default=0.03, ge=0, le=1, description="Legit sessions starting with failed logins."
    )
    big_purchase_rate: float = Field(default=0.003, ge=0, le=1, description="Legit payments 5-15x the user's usual.")
    mobile_ip_pool: int = Field(default=400, ge=1, description="Carrier-grade NAT addresses shared by mobile sessions.")

    # 1. amount outliers
    n_amount_outliers: int = Field(default=250, ge=0, description="Single outsized payments on victims' accounts.")
    # 2. card testing
    n_card_testing_bursts: int = Field(default=40, ge=0, description="Bursts, each on one stolen card.")
    n_card_testers: int = Field(default=8, ge=1, description="Fraudster accounts running the bursts.")
    card_test_burst_size: tuple[int, int] = Field(default=(6, 20), description="Payments per burst.")
    card_test_amount: tuple[float, float] = Field(default=(0.5, 3.0), description="Amount of each test payment.")
    # 3. account takeover
    n_account_takeovers: int = Field(default=60, ge=0, description="Victim accounts taken over (once each).")
    ato_payments: tuple[int, int] = Field(default=(2, 6), description="Payments within the hour after the takeover.")
    # 4. compromised merchants
    n_compromised_merchants: int = Field(default=4, ge=0, description="Breached merchants.")
    compromise_days: tuple[int, int] = Field(default=(3, 8), description="Length of each merchant's fraud run.")
    compromised_frauds_per_day: tuple[int, int] = Field(default=(6, 15), description="Fraudulent charges per day.")
    # 5. fraud rings
    n_rings: int = Field(default=6, ge=0, description="Rings of fake accounts with colluding merchants.")
    ring_size: tuple[int, int] = Field(default=(12, 30), description="Accounts per ring.")
    ring_sessions_per_account: float = Field(default=8.0, gt=0, description="Mean sessions per ring account.")

    @field_validator("start")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _consistent(self) -> SimulatorConfig:
        for name in ("card_test_burst_size", "card_test_amount", "ato_payments", "compromise_days"):
            low, high = getattr(self, name)
            if not 0 < low <= high:
                raise ValueError(f"{name} must be a range 0 < low <= high, got {(low, high)}")
        for name in ("compromised_frauds_per_day", "ring_size"):
            low, high = getattr(self, name)
            if not 1 <= low <= high:
                raise ValueError(f"{name} must be a range 1 <= low <= high, got {(low, high)}")
        if self.ring_size[0] < 3:
            raise ValueError("a ring needs at least 3 accounts")
        if self.days - self.warmup_days < max(15, self.compromise_days[1] + 1):
            raise ValueError("days - warmup_days leaves too little time for the fraud scenarios")
        return self


@dataclass(frozen=True)
class Simulation:
    """The simulated world: time-ordered events plus the customers and merchants behind them."""

    config: SimulatorConfig
    customers: pd.DataFrame
    merchants: pd.DataFrame
    logins: pd.DataFrame
    payments: pd.DataFrame

    def events(self) -> pd.DataFrame:
        """Logins and payments as one time-ordered stream (`event_type` "login" or "payment")."""
        payments = self.payments.assign(event_type="payment")
        stream = pd.concat([self.logins, payments], ignore_index=True)
        stream["success"] = stream["success"].astype("boolean")  # missing for payments
        return stream.sort_values("timestamp", kind="mergesort").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Per scenario: payments, their share of all payments, and logins."""
        payments = self.payments["scenario"].value_counts().reindex(SCENARIOS, fill_value=0)
        logins = self.logins["scenario"].value_counts().reindex(SCENARIOS, fill_value=0)
        return pd.DataFrame(
            {"payments": payments, "payment_share": payments / max(len(self.payments), 1), "logins": logins}
        )


def _haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km (numpy-vectorised; scalars give a numpy float)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _jitter(rng: np.random.Generator, lat: Any, lon: Any, degrees: Any) -> tuple[np.ndarray, np.ndarray]:
    """A point near (lat, lon): normal noise of about `degrees` (x 111 km) in each direction."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    shape = np.broadcast(lat, lon, np.asarray(degrees)).shape
    new_lat = np.clip(lat + rng.normal(0.0, 1.0, shape) * degrees, -89.0, 89.0)
    new_lon = lon + rng.normal(0.0, 1.0, shape) * degrees / np.cos(np.radians(lat))
    return new_lat, (new_lon + 180.0) % 360.0 - 180.0


class _Ids:
    """Allocates integer ids; they become strings (randomly permuted) only at the end."""

    def __init__(self) -> None:
        self.users = 0
        self.devices = 0
        self.cards = 0
        self.addresses = 0

    def take(self, kind: str, n: int) -> np.ndarray:
        first = getattr(self, kind)
        setattr(self, kind, first + n)
        return np.arange(first, first + n)

    @staticmethod
    def ips(rng: np.random.Generator, n: int) -> np.ndarray:
        return (10 << 24) + rng.integers(0, _INDIVIDUAL_IPS, n)


@dataclass
class _Accounts:
    """Every account (genuine customers first, then fraudster accounts), as parallel lists."""

    city: list[int] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    address: list[int] = field(default_factory=list)
    home_ip: list[int] = field(default_factory=list)
    devices: list[list[int]] = field(default_factory=list)
    cards: list[list[int]] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    ring: list[int] = field(default_factory=list)

    def add(
        self,
        *,
        city: int,
        lat: float,
        lon: float,
        address: int,
        home_ip: int,
        devices: Iterable[int],
        cards: Iterable[int],
        role: str,
        ring: int = -1,
    ) -> int:
        self.city.append(city)
        self.lat.append(lat)
        self.lon.append(lon)
        self.address.append(address)
        self.home_ip.append(home_ip)
        self.devices.append([int(d) for d in devices])
        self.cards.append([int(c) for c in cards])
        self.role.append(role)
        self.ring.append(ring)
        return len(self.role) - 1


@dataclass
class _Merchants:
    category: np.ndarray  # index into _CATEGORY_NAMES
    city: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    popularity: np.ndarray  # sums to 1
    compromised: dict[int, tuple[int, int]] = field(default_factory=dict)  # merchant -> (from_ms, to_ms)
    colluding: dict[int, int] = field(default_factory=dict)  # merchant -> ring

    def of_categories(self, names: Sequence[str]) -> np.ndarray:
        wanted = [_CATEGORY_NAMES.index(n) for n in names]
        return np.flatnonzero(np.isin(self.category, wanted))

    def typical_amount(self, rng: np.random.Generator, merchant: Any, level: Any = 1.0) -> np.ndarray:
        category = self.category[merchant]
        noise = np.exp(rng.normal(0.0, 1.0, np.shape(merchant)) * _CATEGORY_SIGMA[category])
        return np.asarray(_CATEGORY_MEDIAN[category] * level * noise)


@dataclass
class _Population:
    accounts: _Accounts
    level: np.ndarray  # spend multiplier of each genuine customer
    activity: np.ndarray  # sessions per day of each genuine customer
    new_device: np.ndarray  # device adopted mid-period, or -1
    new_device_at: np.ndarray  # ms


class _Events:
    """Rows of logins and payments with integer ids, gathered in chunks."""

    def __init__(self) -> None:
        self.logins: list[pd.DataFrame] = []
        self.payments: list[pd.DataFrame] = []

    def login(self, scenario: str, **columns: Any) -> None:
        self.logins.append(pd.DataFrame({**columns, "scenario": scenario}))

    def payment(self, scenario: str, **columns: Any) -> None:
        self.payments.append(pd.DataFrame({**columns, "scenario": scenario}))


def _merchants(config: SimulatorConfig, rng: np.random.Generator) -> _Merchants:
    n = config.n_merchants
    category = rng.choice(len(_CATEGORY_NAMES), size=n, p=_CATEGORY_SHARE)
    city = rng.choice(len(CITIES), size=n, p=_CITY_WEIGHT)
    lat, lon = _jitter(rng, CITY_LAT[city], CITY_LON[city], 0.05)
    popularity = 1.0 / rng.permutation(np.arange(1, n + 1)) ** 0.9  # Zipf over a random rank
    return _Merchants(category, city, lat, lon, popularity / popularity.sum())


def _population(config: SimulatorConfig, ids: _Ids, rng: np.random.Generator) -> _Population:
    n = config.n_customers
    ids.take("users", n)
    city = rng.choice(len(CITIES), size=n, p=_CITY_WEIGHT)
    lat, lon = _jitter(rng, CITY_LAT[city], CITY_LON[city], 0.08)
    address = ids.take("addresses", n)
    home_ip = ids.ips(rng, n)
    device_counts = rng.choice([1, 2, 3], size=n, p=[0.5, 0.35, 0.15])
    card_counts = rng.choice([1, 2], size=n, p=[0.7, 0.3])
    devices = [list(ids.take("devices", int(k))) for k in device_counts]
    cards = [list(ids.take("cards", int(k))) for k in card_counts]

    # Households: consecutive customers (their order is random) share a home, an IP, maybe a device/card.
    members = round(config.household_fraction * n)
    head = 0
    while head + 2 <= members:
        size = min(int(rng.integers(2, 5)), members - head)
        if size < 2:
            break
        group = range(head, head + size)
        shared_device = int(ids.take("devices", 1)[0]) if rng.random() < 0.3 else None
        shared_card = cards[head][0] if rng.random() < 0.25 else None
        for member in group:
            city[member], lat[member], lon[member] = city[head], lat[head], lon[head]
            address[member], home_ip[member] = address[head], home_ip[head]
            if shared_device is not None:
                devices[member].append(shared_device)
            if shared_card is not None and member != head:
                cards[member].append(shared_card)
        head += size

    adopts = rng.random(n) < config.new_device_fraction
    new_device = np.full(n, -1)
    new_device[adopts] = ids.take("devices", int(adopts.sum()))
    for adopter in np.flatnonzero(adopts):
        devices[adopter].append(int(new_device[adopter]))
    accounts = _Accounts(
        city=city.tolist(),
        lat=lat.tolist(),
        lon=lon.tolist(),
        address=address.tolist(),
        home_ip=home_ip.tolist(),
        devices=devices,
        cards=cards,
        role=["customer"] * n,
        ring=[-1] * n,
    )
    return _Population(
        accounts=accounts,
        level=rng.lognormal(0.0, 0.45, n),
        activity=rng.gamma(2.0, config.sessions_per_day / 2.0, n),
        new_device=new_device,
        new_device_at=rng.integers(0, config.days * DAY_MS, n),
    )


def _ragged(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.array([len(x) for x in lists])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.concatenate([np.asarray(x) for x in lists]), offsets, counts


def _pick(lists: list[list[int]], owner: np.ndarray, first: float, rng: np.random.Generator) -> np.ndarray:
    """For each row, an element of `lists[owner]`: the first with probability `first`, else any."""
    flat, offsets, counts = _ragged(lists)
    k = counts[owner]
    index = np.where(rng.random(owner.size) < first, 0, (rng.random(owner.size) * k).astype(int))
    return np.asarray(flat[offsets[owner] + index])


def _legit_sessions(
    config: SimulatorConfig, population: _Population, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Session starts of genuine customers with where, from which device and through which IP."""
    accounts = population.accounts
    n = config.n_customers
    home_lat, home_lon = np.asarray(accounts.lat), np.asarray(accounts.lon)
    home_city, home_ip = np.asarray(accounts.city), np.asarray(accounts.home_ip)
    user = np.repeat(np.arange(n), rng.poisson(population.activity * config.days))
    size = user.size
    t = rng.integers(0, config.days, size) * DAY_MS + rng.choice(24, size=size, p=_DIURNAL) * HOUR_MS
    t = t + rng.integers(0, HOUR_MS, size)

    # One trip per traveller: depart, fly (no events), stay 2-8 days, fly back.
    destination = (home_city + rng.integers(1, len(CITIES), n)) % len(CITIES)
    distance = _haversine_km(home_lat, home_lon, CITY_LAT[destination], CITY_LON[destination])
    flight = ((distance / 850.0 + rng.uniform(1.0, 3.0, n)) * HOUR_MS).astype(np.int64)
    depart = rng.integers(0, max(1, (config.days - 10) * DAY_MS), n)
    arrive = depart + flight
    leave = arrive + rng.integers(2 * DAY_MS, 8 * DAY_MS, n)
    back = leave + flight
    travels = rng.random(n) < config.traveller_fraction
    hotel_ip = _Ids.ips(rng, n)
    in_air = travels[user] & (((t > depart[user]) & (t < arrive[user])) | ((t > leave[user]) & (t < back[user])))
    keep = ~in_air
    user, t = user[keep], t[keep]
    size = user.size
    away = travels[user] & (t >= arrive[user]) & (t <= leave[user])

    mobile = rng.random(size) < 0.4
    ip = np.where(mobile, _MOBILE_NET + rng.integers(0, config.mobile_ip_pool, size), home_ip[user])
    lat, lon = _jitter(rng, home_lat[user], home_lon[user], np.where(mobile, 0.12, 0.02))
    trip_lat, trip_lon = _jitter(rng, CITY_LAT[destination[user]], CITY_LON[destination[user]], 0.05)
    lat, lon = np.where(away, trip_lat, lat), np.where(away, trip_lon, lon)
    ip = np.where(away & (rng.random(size) < 0.7), hotel_ip[user], ip)
    vpn = rng.random(size) < config.vpn_rate
    exit_city = rng.integers(0, len(CITIES), size)
    lat, lon = np.where(vpn, CITY_LAT[exit_city], lat), np.where(vpn, CITY_LON[exit_city], lon)
    ip = np.where(vpn, _VPN_NET + rng.integers(0, _VPN_EXITS, size), ip)

    original = list(accounts.devices[:n])
    for member in np.flatnonzero(population.new_device >= 0):
        original[member] = original[member][:-1]  # the adopted device is chosen below, from its date on
    device = _pick(original, user, 0.65, rng)
    adopted = population.new_device[user]
    switched = (adopted >= 0) & (t >= population.new_device_at[user]) & (rng.random(size) < 0.6)
    device = np.where(switched, adopted, device)
    return {"user": user, "t": t, "device": device, "ip": ip, "lat": lat, "lon": lon}


def _legit(
    config: SimulatorConfig, population: _Population, merchants: _Merchants, events: _Events, rng: np.random.Generator
) -> None:
    """Genuine traffic: sessions of logins (with occasional failures) and payments."""
    s = _legit_sessions(config, population, rng)
    size = s["user"].size
    events.login("legit", success=True, **s)
    failures = np.where(rng.random(size) < config.failed_login_rate, 1 + (rng.random(size) < 0.3), 0)
    failed = np.repeat(np.arange(size), failures)
    back = (np.arange(failed.size) - np.repeat(np.cumsum(failures) - failures, failures) + 1) * rng.integers(
        10 * SECOND_MS, 60 * SECOND_MS, failed.size
    )
    events.login("legit", success=False, **{k: v[failed] for k, v in s.items() if k != "t"}, t=s["t"][failed] - back)

    n_pay = np.where(rng.random(size) < config.browse_only_rate, 0, rng.geometric(0.7, size))
    session = np.repeat(np.arange(size), n_pay)
    gaps = rng.integers(20 * SECOND_MS, 6 * MINUTE_MS, session.size)
    running = np.cumsum(gaps)
    first = np.repeat(np.cumsum(n_pay) - n_pay, n_pay)
    offset = running - running[first] + gaps[first]
    user = s["user"][session]
    favourites = rng.choice(len(merchants.popularity), size=(config.n_customers, 6), p=merchants.popularity)
    merchant = np.where(
        rng.random(session.size) < 0.65,
        favourites[user, rng.integers(0, 6, session.size)],
        rng.choice(len(merchants.popularity), size=session.size, p=merchants.popularity),
    )
    amount = merchants.typical_amount(rng, merchant, population.level[user])
    big = rng.random(session.size) < config.big_purchase_rate
    amount = np.where(big, amount * rng.uniform(5.0, 15.0, session.size), amount)
    gift = merchants.category[merchant] == _CATEGORY_NAMES.index("gift_cards")
    amount = np.where(gift, np.maximum(25.0, np.round(amount / 25.0) * 25.0), amount)
    events.payment(
        "legit",
        user=user,
        device=s["device"][session],
        ip=s["ip"][session],
        t=s["t"][session] + offset,
        lat=s["lat"][session],
        lon=s["lon"][session],
        merchant=merchant,
        amount=np.round(np.maximum(amount, 0.5), 2),
        card=_pick(population.accounts.cards[: config.n_customers], user, 0.75, rng),
        method=np.where(rng.random(session.size) < 0.35, "wallet", "card"),
    )


class _History:
    """Genuine customers' legit events (logins and payments) by user and time, and their usual amounts."""

    def __init__(self, events: _Events, n_customers: int) -> None:
        logins = pd.concat(events.logins, ignore_index=True)
        self.payments = pd.concat(events.payments, ignore_index=True)
        both = pd.concat([logins[["user", "t", "lat", "lon"]], self.payments[["user", "t", "lat", "lon"]]])
        both = both.sort_values(["user", "t"], kind="mergesort")
        self.user = both["user"].to_numpy()
        self.t = both["t"].to_numpy()
        self.lat = both["lat"].to_numpy()
        self.lon = both["lon"].to_numpy()
        self.starts = np.searchsorted(self.user, np.arange(n_customers + 1))
        by_user = self.payments.groupby("user")["amount"]
        self.median = by_user.median().reindex(range(n_customers)).to_numpy()
        self.count = by_user.size().reindex(range(n_customers), fill_value=0).to_numpy()

    def of(self, user: int) -> slice:
        return slice(int(self.starts[user]), int(self.starts[user + 1]))

    def victims(self, used: set[int], rng: np.random.Generator, min_payments: int = 5) -> list[int]:
        """Genuine customers with history, in random order, not yet a victim of another scenario."""
        eligible = np.flatnonzero(self.count >= min_payments)
        return [int(u) for u in rng.permutation(eligible) if int(u) not in used]


@dataclass(frozen=True)
class _Window:
    """Where fraud may happen: after the warm-up, before the end (ms from start)."""

    first: int
    last: int

    def draw(self, rng: np.random.Generator, margin: int = 0) -> int:
        return int(rng.integers(self.first, self.last - margin))


def _login_then_pay(
    events: _Events,
    scenario: str,
    rng: np.random.Generator,
    *,
    user: int,
    device: int,
    ip: int,
    t: int,
    lat: float,
    lon: float,
    merchant: int,
    amount: float,
    card: int,
    method: str | None = None,
) -> None:
    """One login and one payment a few minutes later, same account, device, IP and place."""
    events.login(scenario, user=[user], device=device, ip=ip, t=t, lat=lat, lon=lon, success=True)
    paid = t + int(rng.integers(1 * MINUTE_MS, 6 * MINUTE_MS))
    chosen = method or ("wallet" if rng.random() < 0.3 else "card")
    events.payment(
        scenario,
        user=[user],
        device=device,
        ip=ip,
        t=paid,
        lat=lat,
        lon=lon,
        merchant=merchant,
        amount=round(float(amount), 2),
        card=card,
        method=chosen,
    )


def _amount_outliers(
    config: SimulatorConfig,
    accounts: _Accounts,
    merchants: _Merchants,
    history: _History,
    ids: _Ids,
    events: _Events,
    used: set[int],
    window: _Window,
    rng: np.random.Generator,
) -> int:
    shops = merchants.of_categories(HIGH_VALUE)
    victims = history.victims(used, rng)[: config.n_amount_outliers]
    for user in victims:
        used.add(user)
        if rng.random() < 0.5:
            device, ip, spread = accounts.devices[user][0], accounts.home_ip[user], 0.02
        else:
            device, ip, spread = int(ids.take("devices", 1)[0]), int(_Ids.ips(rng, 1)[0]), 0.1
        lat, lon = _jitter(rng, accounts.lat[user], accounts.lon[user], spread)
        amount = max(history.median[user] * rng.uniform(15.0, 50.0), rng.uniform(500.0, 900.0))
        merchant = int(rng.choice(shops, p=merchants.popularity[shops] / merchants.popularity[shops].sum()))
        _login_then_pay(
            events,
            "amount_outlier",
            rng,
            user=user,
            device=device,
            ip=ip,
            t=window.draw(rng),
            lat=float(lat),
            lon=float(lon),
            merchant=merchant,
            amount=amount,
            card=accounts.cards[user][0],
        )
    return len(victims)


def _card_testing(
    config: SimulatorConfig,
    accounts: _Accounts,
    merchants: _Merchants,
    ids: _Ids,
    events: _Events,
    window: _Window,
    rng: np.random.Generator,
) -> None:
    testers = []
    for _ in range(config.n_card_testers):
        city = int(rng.integers(0, len(CITIES)))
        lat, lon = _jitter(rng, CITY_LAT[city], CITY_LON[city], 0.08)
        testers.append(
            accounts.add(
                city=city,
                lat=float(lat),
                lon=float(lon),
                address=int(ids.take("addresses", 1)[0]),
                home_ip=int(_Ids.ips(rng, 1)[0]),
                devices=ids.take("devices", int(rng.integers(1, 3))),
                cards=ids.take("cards", 1),
                role="card_tester",
            )
        )
    shops = merchants.of_categories(["digital_goods"])
    if shops.size == 0:
        shops = np.flatnonzero(_CATEGORY_MEDIAN[merchants.category] == _CATEGORY_MEDIAN[merchants.category].min())
    stolen = [card for cards in accounts.cards[: config.n_customers] for card in cards]
    low, high = config.card_test_burst_size
    for _ in range(config.n_card_testing_bursts):
        tester = testers[int(rng.integers(0, len(testers)))]
        device = int(rng.choice(accounts.devices[tester]))
        ip = int(_Ids.ips(rng, 1)[0])  # a fresh proxy per burst
        lat, lon = _jitter(rng, accounts.lat[tester], accounts.lon[tester], 0.02)
        start = window.draw(rng, margin=HOUR_MS)
        events.login("card_testing", user=[tester], device=device, ip=ip, t=start, lat=lat, lon=lon, success=True)
        size = int(rng.integers(low, high + 1))
        times = start + 20 * SECOND_MS + np.cumsum(rng.integers(5 * SECOND_MS, 60 * SECOND_MS, size))
        amounts = np.round(rng.uniform(*config.card_test_amount, size), 2)
        amounts = np.where(rng.random(size) < 0.3, 1.0, amounts)
        events.payment(
            "card_testing",
            user=tester,
            device=device,
            ip=ip,
            t=times,
            lat=float(lat),
            lon=float(lon),
            merchant=int(rng.choice(shops)),
            amount=amounts,
            card=stolen[int(rng.integers(len(stolen)))],
            method="card",
        )


def _account_takeovers(
    config: SimulatorConfig,
    accounts: _Accounts,
    merchants: _Merchants,
    history: _History,
    ids: _Ids,
    events: _Events,
    used: set[int],
    window: _Window,
    rng: np.random.Generator,
) -> int:
    shops = merchants.of_categories(HIGH_VALUE)
    done = 0
    for user in history.victims(used, rng):
        if done == config.n_account_takeovers:
            break
        span = history.of(user)
        t, lat, lon = history.t[span], history.lat[span], history.lon[span]
        gaps = np.diff(t)
        anchors = np.flatnonzero(
            (gaps >= 20 * MINUTE_MS) & (t[:-1] >= window.first) & (t[:-1] < window.last - 2 * HOUR_MS)
        )
        if anchors.size == 0:
            continue
        anchor = int(rng.choice(anchors))
        distance = _haversine_km(lat[anchor], lon[anchor], CITY_LAT, CITY_LON)
        far = np.flatnonzero(distance >= 2000.0)
        if far.size == 0:
            continue
        city = int(rng.choice(far))
        latest = min(0.8 * gaps[anchor], distance[city] / 1000.0 * HOUR_MS)
        login = int(t[anchor] + rng.uniform(5 * MINUTE_MS, latest))
        device, ip = int(ids.take("devices", 1)[0]), int(_Ids.ips(rng, 1)[0])
        at_lat, at_lon = _jitter(rng, CITY_LAT[city], CITY_LON[city], 0.05)
        attempts = int(rng.integers(0, 4))
        tried = login - np.arange(attempts, 0, -1) * int(rng.integers(15 * SECOND_MS, 40 * SECOND_MS))
        place = {"device": device, "ip": ip, "lat": float(at_lat), "lon": float(at_lon)}
        events.login("account_takeover", user=user, t=tried, success=False, **place)
        events.login("account_takeover", user=[user], t=login, success=True, **place)
        size = int(rng.integers(config.ato_payments[0], config.ato_payments[1] + 1))
        times = login + np.cumsum(rng.integers(1 * MINUTE_MS, max(2 * MINUTE_MS, 55 * MINUTE_MS // size), size))
        picked = rng.choice(shops, size=size, p=merchants.popularity[shops] / merchants.popularity[shops].sum())
        amounts = np.clip(history.median[user] * rng.uniform(2.5, 6.0, size), 20.0, 3000.0)
        events.payment(
            "account_takeover",
            user=user,
            t=times,
            merchant=picked,
            amount=np.round(amounts, 2),
            card=accounts.cards[user][0],
            method=np.where(rng.random(size) < 0.3, "wallet", "card"),
            **place,
        )
        used.add(user)
        done += 1
    return done


def _compromised_merchants(
    config: SimulatorConfig,
    merchants: _Merchants,
    history: _History,
    events: _Events,
    ids: _Ids,
    used: set[int],
    window: _Window,
    level: np.ndarray,
    rng: np.random.Generator,
) -> int:
    legit = history.payments
    done = 0
    breachable = merchants.of_categories(BREACHABLE)
    mid_size = breachable[merchants.popularity[breachable] < np.quantile(merchants.popularity, 0.9)]
    for merchant in rng.permutation(mid_size):
        if done == config.n_compromised_merchants:
            break
        merchant = int(merchant)
        days = int(rng.integers(config.compromise_days[0], config.compromise_days[1] + 1))
        begin = window.draw(rng, margin=days * DAY_MS)
        before = legit[(legit["merchant"] == merchant) & (legit["t"] < begin)]
        before = before[~before["user"].isin(used)].drop_duplicates("user", keep="last")
        if len(before) < 10:
            continue
        merchants.compromised[merchant] = (begin, begin + days * DAY_MS)
        per_day = rng.integers(config.compromised_frauds_per_day[0], config.compromised_frauds_per_day[1] + 1, days)
        count = int(per_day.sum())
        times = np.sort(
            begin + np.repeat(np.arange(days), per_day) * DAY_MS + rng.integers(0, DAY_MS - 10 * MINUTE_MS, count)
        )
        victims = before.iloc[rng.choice(len(before), size=count, replace=count > len(before))]
        pool_devices = ids.take("devices", int(rng.integers(3, 7)))
        pool_ips = _Ids.ips(rng, int(rng.integers(2, 6)))
        city = int(rng.integers(0, len(CITIES)))
        lat, lon = _jitter(rng, np.full(count, CITY_LAT[city]), np.full(count, CITY_LON[city]), 0.05)
        amounts = merchants.typical_amount(rng, np.full(count, merchant), level[victims["user"].to_numpy()])
        for i, (user, card) in enumerate(zip(victims["user"], victims["card"], strict=True)):
            used.add(int(user))
            _login_then_pay(
                events,
                "compromised_merchant",
                rng,
                user=int(user),
                device=int(rng.choice(pool_devices)),
                ip=int(rng.choice(pool_ips)),
                t=int(times[i]),
                lat=float(lat[i]),
                lon=float(lon[i]),
                merchant=merchant,
                amount=max(0.5, float(amounts[i])),
                card=int(card),
            )
        done += 1
    return done


def _fraud_rings(
    config: SimulatorConfig,
    accounts: _Accounts,
    merchants: _Merchants,
    ids: _Ids,
    events: _Events,
    window: _Window,
    rng: np.random.Generator,
) -> None:
    quiet = merchants.popularity < np.median(merchants.popularity)
    candidates = [
        int(m) for m in merchants.of_categories(RING_CATEGORIES) if quiet[m] and m not in merchants.compromised
    ]
    candidates = [int(m) for m in rng.permutation(candidates)]
    everyone = np.arange(len(merchants.popularity))
    for ring in range(config.n_rings):
        colluding = [candidates.pop() for _ in range(min(len(candidates), int(rng.integers(1, 3))))]
        for merchant in colluding:
            merchants.colluding[merchant] = ring
        city = int(rng.integers(0, len(CITIES)))
        homes = [_jitter(rng, CITY_LAT[city], CITY_LON[city], 0.05) for _ in range(int(rng.integers(1, 3)))]
        addresses = ids.take("addresses", len(homes))
        pool_devices = ids.take("devices", int(rng.integers(2, 6)))
        pool_ips = _Ids.ips(rng, int(rng.integers(2, 5)))
        begin = window.draw(rng, margin=14 * DAY_MS)
        end = min(window.last, begin + int(rng.integers(14, 41)) * DAY_MS)
        for _ in range(int(rng.integers(config.ring_size[0], config.ring_size[1] + 1))):
            home = int(rng.integers(0, len(homes)))
            devices = rng.choice(pool_devices, size=int(rng.integers(1, min(3, pool_devices.size) + 1)), replace=False)
            user = accounts.add(
                city=city,
                lat=float(homes[home][0]),
                lon=float(homes[home][1]),
                address=int(addresses[home]),
                home_ip=int(rng.choice(pool_ips)),
                devices=devices,
                cards=ids.take("cards", 1),
                role="ring_member",
                ring=ring,
            )
            for start in np.sort(rng.integers(begin, end, max(1, int(rng.poisson(config.ring_sessions_per_account))))):
                lat, lon = _jitter(rng, accounts.lat[user], accounts.lon[user], 0.01)
                device, ip = int(rng.choice(devices)), int(rng.choice(pool_ips))
                if rng.random() < 0.1:
                    events.login(
                        "fraud_ring",
                        user=[user],
                        device=device,
                        ip=ip,
                        t=int(start) - 30 * SECOND_MS,
                        lat=float(lat),
                        lon=float(lon),
                        success=False,
                    )
                at_colluder = bool(colluding) and rng.random() < 0.75
                merchant = (
                    int(rng.choice(colluding)) if at_colluder else int(rng.choice(everyone, p=merchants.popularity))
                )
                if at_colluder and rng.random() < 0.3:
                    amount = 50.0 * int(rng.integers(2, 17))  # cash-out
                else:
                    amount = float(merchants.typical_amount(rng, merchant) * rng.uniform(0.7, 1.3))
                _login_then_pay(
                    events,
                    "fraud_ring",
                    rng,
                    user=user,
                    device=device,
                    ip=ip,
                    t=int(start),
                    lat=float(lat),
                    lon=float(lon),
                    merchant=merchant,
                    amount=max(0.5, amount),
                    card=accounts.cards[user][0],
                )


def _labels(prefix: str, count: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """String ids for integer ids 0..count-1, randomly permuted so their order says nothing."""
    order = rng.permutation(count)
    return np.array([f"{prefix}{i:0{width}d}" for i in order], dtype=object)


def _ip_strings(ips: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(ips)
    text = np.array([f"{u >> 24 & 255}.{u >> 16 & 255}.{u >> 8 & 255}.{u & 255}" for u in uniques], dtype=object)
    return np.asarray(text[codes])


def _timestamps(config: SimulatorConfig, t: np.ndarray) -> pd.Series:
    start = int(pd.Timestamp(config.start).value // 1_000_000)
    return pd.Series(pd.to_datetime(start + t, unit="ms", utc=True)).astype("datetime64[ns, UTC]")


@dataclass
class _Names:
    users: np.ndarray
    devices: np.ndarray
    cards: np.ndarray
    addresses: np.ndarray
    merchants: np.ndarray


def _event_frame(config: SimulatorConfig, chunks: list[pd.DataFrame], names: _Names, prefix: str) -> pd.DataFrame:
    raw = pd.concat(chunks, ignore_index=True).sort_values(["t", "user"], kind="mergesort").reset_index(drop=True)
    frame = pd.DataFrame(
        {
            f"{prefix}_id": [f"{prefix[0]}{i:08d}" for i in range(len(raw))],
            "user_id": names.users[raw["user"].to_numpy()],
            "device_id": names.devices[raw["device"].to_numpy()],
            "ip": _ip_strings(raw["ip"].to_numpy()),
        }
    )
    if "merchant" in raw:
        frame["merchant_id"] = names.merchants[raw["merchant"].to_numpy()]
        frame["amount"] = raw["amount"].astype(float)
        frame["currency"] = config.currency
    frame["timestamp"] = _timestamps(config, raw["t"].to_numpy())
    frame["lat"] = raw["lat"].astype(float).round(5)
    frame["lon"] = raw["lon"].astype(float).round(5)
    if "merchant" in raw:
        frame["payment_method"] = raw["method"].astype(str)
        frame["card_id"] = names.cards[raw["card"].to_numpy()]
    else:
        frame["success"] = raw["success"].astype(bool)
    frame["is_fraud"] = (raw["scenario"] != "legit").to_numpy()
    frame["scenario"] = raw["scenario"].astype(str)
    for column in ("user_id", "device_id", "ip", "merchant_id", "card_id", "currency", "payment_method"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame


def _customer_frame(accounts: _Accounts, names: _Names) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": names.users[: len(accounts.role)],
            "role": accounts.role,
            "ring_id": pd.array([r if r >= 0 else None for r in accounts.ring], dtype="Int64"),
            "home_city": [CITIES[c][0] for c in accounts.city],
            "home_lat": np.round(accounts.lat, 5),
            "home_lon": np.round(accounts.lon, 5),
            "address_id": names.addresses[accounts.address],
            "home_ip": _ip_strings(np.asarray(accounts.home_ip)),
            "devices": [tuple(str(names.devices[d]) for d in ds) for ds in accounts.devices],
            "cards": [tuple(str(names.cards[c]) for c in cs) for cs in accounts.cards],
        }
    )
    for column in ("user_id", "address_id", "home_ip", "role", "home_city"):
        frame[column] = frame[column].astype(str)
    return frame.sort_values("user_id").reset_index(drop=True)


def _merchant_frame(config: SimulatorConfig, merchants: _Merchants, names: _Names) -> pd.DataFrame:
    n = len(merchants.popularity)
    window = np.full((n, 2), -1, dtype=np.int64)
    for merchant, bounds in merchants.compromised.items():
        window[merchant] = bounds
    compromised = window[:, 0] >= 0
    frame = pd.DataFrame(
        {
            "merchant_id": names.merchants,
            "category": [_CATEGORY_NAMES[c] for c in merchants.category],
            "city": [CITIES[c][0] for c in merchants.city],
            "lat": np.round(merchants.lat, 5),
            "lon": np.round(merchants.lon, 5),
            "popularity": merchants.popularity,
            "is_compromised": compromised,
            "compromised_from": _timestamps(config, window[:, 0]).where(compromised),
            "compromised_to": _timestamps(config, window[:, 1]).where(compromised),
            "is_colluding": [m in merchants.colluding for m in range(n)],
            "ring_id": pd.array([merchants.colluding.get(m) for m in range(n)], dtype="Int64"),
        }
    )
    for column in ("merchant_id", "category", "city"):
        frame[column] = frame[column].astype(str)
    return frame


def simulate(config: SimulatorConfig | None = None) -> Simulation:
    """Generate the world described in the module docstring; the same config gives identical frames.

    Raises ValueError when the world is too small to hold the requested compromised merchants, takeovers
    or amount outliers (each needs distinct victims with history)."""
    config = config or SimulatorConfig()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(8)]
    world, traffic, outliers, testing, takeovers, breaches, rings, naming = streams
    ids = _Ids()
    merchants = _merchants(config, world)
    population = _population(config, ids, world)
    accounts = population.accounts
    events = _Events()
    _legit(config, population, merchants, events, traffic)
    history = _History(events, config.n_customers)
    window = _Window(config.warmup_days * DAY_MS, config.days * DAY_MS - 2 * HOUR_MS)
    used: set[int] = set()
    made = {
        "n_compromised_merchants": _compromised_merchants(
            config, merchants, history, events, ids, used, window, population.level, breaches
        ),
        "n_account_takeovers": _account_takeovers(
            config, accounts, merchants, history, ids, events, used, window, takeovers
        ),
        "n_amount_outliers": _amount_outliers(
            config, accounts, merchants, history, ids, events, used, window, outliers
        ),
    }
    short = {name: (count, getattr(config, name)) for name, count in made.items() if count < getattr(config, name)}
    if short:
        detail = ", ".join(f"{name}: {count} of {wanted}" for name, (count, wanted) in short.items())
        raise ValueError(
            f"too few eligible customers or merchants for the requested fraud ({detail}); "
            "raise n_customers, n_merchants or days, or ask for less fraud"
        )
    _card_testing(config, accounts, merchants, ids, events, window, testing)
    _fraud_rings(config, accounts, merchants, ids, events, window, rings)

    names = _Names(
        users=_labels("u", len(accounts.role), 6, naming),
        devices=_labels("d", ids.devices, 7, naming),
        cards=_labels("c", ids.cards, 7, naming),
        addresses=_labels("a", ids.addresses, 6, naming),
        merchants=np.array([f"m{i:04d}" for i in range(config.n_merchants)], dtype=object),
    )
    return Simulation(
        config=config,
        customers=_customer_frame(accounts, names),
        merchants=_merchant_frame(config, merchants, names),
        logins=_event_frame(config, events.logins, names, "login").pipe(_with_event_type),
        payments=_event_frame(config, events.payments, names, "transaction"),
    )


def _with_event_type(logins: pd.DataFrame) -> pd.DataFrame:
    logins.insert(1, "event_type", "login")
    logins["event_type"] = logins["event_type"].astype(str)
    return logins

"""Velocity state per user, device, IP and merchant, and the updates an event makes to it.

The state of one entity is a flat item (a DynamoDB item in serving, a dict in the training replay):
counters in time buckets, plus a few scalars and small maps for users. Both paths read and change it
with the same functions here, so training and serving features cannot drift apart.

Counters are bucketed at three resolutions so a window is a sum of a bounded number of buckets:
5-minute buckets for the 1 h window, hourly for 24 h, daily for 7 d. A window counts the buckets that
start inside it (an event up to one bucket width older than the window may be left out). Each bucket is
a top-level attribute `<series>_<resolution><bucket index>` (e.g. `n_m5893120`), so serving applies an
event with one UpdateItem of `ADD`s: increments commute, so concurrent requests on a hot merchant never
conflict or lose counts. Stale buckets are removed by the same update.

Series: `n` payment count, `v` payment value (every entity, 1 h / 24 h / 7 d), `s` small payments (at
most SMALL_PAYMENT each: what card testing sends; devices, 1 h), `f` failed logins and `c` account changes
(password, email, phone, 2FA, address; users, 1 h / 24 h). An event older than the
entity's last one (a late queue delivery) counts in its own buckets but never moves "last seen" or the
session back.
User scalars: `first` (first seen, epoch s), the last successful event's place `lt`/`la`/`lo`, and the
last successful login's session: `st` time, `sd` device, `ss` implied speed (km/h) from the event before
it, `sn` 1 if that device was new for the user. User maps: `dev` and `ipm` (first seen per device and IP,
at most MAX_KNOWN). Device and IP map: `usr` (last seen per user in the last 7 days, at most MAX_USERS).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["user", "device", "ip", "merchant"]
Item = dict[str, Any]

WIDTH = {"m": 300, "h": 3600, "d": 86400}
KEPT = {"m": 12, "h": 24, "d": 7}  # buckets per resolution: one window's worth
WINDOWS = {"1h": ("m", 3600), "24h": ("h", 86400), "7d": ("d", 7 * 86400)}
# Which series each kind keeps, and at which resolutions.
SERIES: dict[Kind, dict[str, str]] = {
    "user": {"n": "mhd", "v": "mhd", "f": "mh", "c": "mh"},
    "device": {"n": "mhd", "v": "mhd", "s": "m"},
    "ip": {"n": "mhd", "v": "mhd"},
    "merchant": {"n": "mhd", "v": "mhd"},
}
# A card tester checks stolen cards with tiny payments; a device's payments of at most this much (in the
# shop's currency) are counted apart, for the card-testing rule (commerce_ai.risk.decisions).
SMALL_PAYMENT = 5.0
MAX_KNOWN = 32  # devices / IPs remembered per user
MAX_USERS = 64  # users remembered per device / IP
USER_MEMORY = 7 * 86400
MIN_TRAVEL_SECONDS = 60.0  # two events closer than this are timed as this far apart
MAX_SPEED_KMH = 5000.0
EARTH_RADIUS_KM = 6371.0088


def entity_key(kind: Kind, identifier: str) -> str:
    return f"{kind}#{identifier}"


@dataclass
class Update:
    """What one event changes in one entity's item: increments, values, map entries, removals."""

    key: str
    add: dict[str, float] = field(default_factory=dict)
    assign: dict[str, Any] = field(default_factory=dict)
    put_in: dict[str, dict[str, float]] = field(default_factory=dict)  # map attribute -> entries
    remove: set[str] = field(default_factory=set)
    remove_in: dict[str, set[str]] = field(default_factory=dict)

    def empty(self) -> bool:
        return not (self.add or self.assign or self.put_in or self.remove or self.remove_in)


def apply(item: Item | None, update: Update) -> Item:
    """The item after `update`, as DynamoDB would leave it (the training replay's store)."""
    result: Item = dict(item or {})
    for name in update.remove:
        result.pop(name, None)
    for name, value in update.add.items():
        result[name] = result.get(name, 0.0) + value
    result.update(update.assign)
    for name, gone in update.remove_in.items():
        if name in result:
            result[name] = {k: v for k, v in result[name].items() if k not in gone}
    for name, entries in update.put_in.items():
        result[name] = {**result.get(name, {}), **entries}
    return result


# -- reading -----------------------------------------------------------------------------------------


def _buckets(item: Mapping[str, Any], series: str, resolution: str) -> Iterable[tuple[int, float]]:
    prefix = f"{series}_{resolution}"
    for name, value in item.items():
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            yield int(name[len(prefix) :]), float(value)


def window_total(item: Mapping[str, Any] | None, series: str, window: str, now: float) -> float:
    """Sum of `series` over the buckets that start within `window` before `now` (now's bucket included)."""
    if not item:
        return 0.0
    resolution, span = WINDOWS[window]
    width = WIDTH[resolution]
    first, last = math.floor((now - span) / width) + 1, math.floor(now / width)
    return sum(value for bucket, value in _buckets(item, series, resolution) if first <= bucket <= last)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_from_last(user: Mapping[str, Any] | None, now: float, lat: float, lon: float) -> tuple[float, float, float]:
    """(distance km, implied speed km/h, seconds) since the user's last successful event; zeros if none."""
    if not user or "lt" not in user or float(user["lt"]) > now:  # none yet, or a later one (a late event)
        return 0.0, 0.0, 0.0
    seconds = now - float(user["lt"])
    distance = haversine_km(float(user["la"]), float(user["lo"]), lat, lon)
    speed = distance / (max(seconds, MIN_TRAVEL_SECONDS) / 3600.0)
    return distance, min(speed, MAX_SPEED_KMH), seconds


def users_seen(item: Mapping[str, Any] | None, now: float) -> int:
    """Distinct users of a device or IP in the last 7 days."""
    if not item:
        return 0
    return sum(1 for seen in item.get("usr", {}).values() if now - float(seen) <= USER_MEMORY)


# -- updating ----------------------------------------------------------------------------------------


def _count(update: Update, item: Mapping[str, Any] | None, kind: Kind, series: str, now: float, value: float) -> None:
    """Add `value` to `series` now, and drop that series' buckets that no window reaches any more."""
    for resolution in SERIES[kind][series]:
        width = WIDTH[resolution]
        current = math.floor(now / width)
        update.add[f"{series}_{resolution}{current}"] = update.add.get(f"{series}_{resolution}{current}", 0.0) + value
        if item:
            oldest = current - KEPT[resolution]
            update.remove.update(
                f"{series}_{resolution}{bucket}" for bucket, _ in _buckets(item, series, resolution) if bucket <= oldest
            )


def _remember(
    update: Update, item: Mapping[str, Any] | None, attribute: str, key: str, value: float, cap: int, keep_first: bool
) -> None:
    """Record `key` in a bounded map: first-seen maps keep the first value, last-seen maps the latest.
    Past the cap the oldest entries go."""
    known: Mapping[str, Any] = (item or {}).get(attribute, {})
    if keep_first and key in known:
        return
    update.put_in.setdefault(attribute, {})[key] = value
    overflow = len(known) + (0 if key in known else 1) - cap
    if overflow > 0:
        oldest = sorted((v, k) for k, v in known.items() if k != key)[:overflow]
        update.remove_in.setdefault(attribute, set()).update(k for _, k in oldest)


def _forget_stale_users(update: Update, item: Mapping[str, Any] | None, now: float) -> None:
    stale = {u for u, seen in (item or {}).get("usr", {}).items() if now - float(seen) > USER_MEMORY}
    if stale:
        update.remove_in.setdefault("usr", set()).update(stale)


def _seen_at(update: Update, user: Mapping[str, Any] | None, now: float, lat: float, lon: float) -> None:
    if not user or "first" not in user:
        update.assign["first"] = now
    if not user or float(user.get("lt", -math.inf)) <= now:  # a late event never moves "last seen" back
        update.assign.update({"lt": now, "la": lat, "lo": lon})


def payment_updates(
    user_id: str,
    device_id: str,
    ip: str,
    merchant_id: str,
    amount: float,
    now: float,
    lat: float,
    lon: float,
    items: Mapping[str, Item | None],
    trusted: bool = True,
) -> list[Update]:
    """The updates a payment makes to its four entities, given their items before it (`items` by key).

    Every payment counts. Only a `trusted` one (not declined) also makes its device and IP known to the
    user and moves the user's last place: a declined takeover attempt must not make the attacker's device
    look familiar to the next one."""
    keys = {
        "user": entity_key("user", user_id),
        "device": entity_key("device", device_id),
        "ip": entity_key("ip", ip),
        "merchant": entity_key("merchant", merchant_id),
    }
    user, device, address, merchant = (items.get(keys[k]) for k in ("user", "device", "ip", "merchant"))
    updates = {kind: Update(key) for kind, key in keys.items()}

    u = updates["user"]
    _count(u, user, "user", "n", now, 1.0)
    _count(u, user, "user", "v", now, amount)
    if trusted:
        _seen_at(u, user, now, lat, lon)
        _remember(u, user, "dev", device_id, now, MAX_KNOWN, keep_first=True)
        _remember(u, user, "ipm", ip, now, MAX_KNOWN, keep_first=True)
    elif not user or "first" not in user:
        u.assign["first"] = now

    for kind, item in (("device", device), ("ip", address)):
        shared = updates[kind]
        _count(shared, item, kind, "n", now, 1.0)  # type: ignore[arg-type]
        _count(shared, item, kind, "v", now, amount)  # type: ignore[arg-type]
        if kind == "device" and amount <= SMALL_PAYMENT:
            _count(shared, item, "device", "s", now, 1.0)
        _forget_stale_users(shared, item, now)
        _remember(shared, item, "usr", user_id, now, MAX_USERS, keep_first=False)

    m = updates["merchant"]
    _count(m, merchant, "merchant", "n", now, 1.0)
    _count(m, merchant, "merchant", "v", now, amount)
    return list(updates.values())


def login_updates(
    user_id: str,
    device_id: str,
    ip: str,
    success: bool,
    now: float,
    lat: float,
    lon: float,
    items: Mapping[str, Item | None],
) -> list[Update]:
    """The updates a login attempt makes: failed attempts count against the user; a successful one opens a
    session (recording how fast the user would have travelled to get here, and whether the device is new)
    and makes the device and IP known."""
    user_key = entity_key("user", user_id)
    user = items.get(user_key)
    u = Update(user_key)
    if not success:
        _count(u, user, "user", "f", now, 1.0)
        return [u]
    _, speed, _ = travel_from_last(user, now, lat, lon)
    known_devices = (user or {}).get("dev", {})
    if not user or float(user.get("st", -math.inf)) <= now:  # a late login does not replace a newer session
        u.assign.update(
            {"st": now, "sd": device_id, "ss": round(speed, 1), "sn": 0.0 if device_id in known_devices else 1.0}
        )
    _seen_at(u, user, now, lat, lon)
    _remember(u, user, "dev", device_id, now, MAX_KNOWN, keep_first=True)
    _remember(u, user, "ipm", ip, now, MAX_KNOWN, keep_first=True)
    updates = [u]
    for kind, identifier in (("device", device_id), ("ip", ip)):
        key = entity_key(kind, identifier)  # type: ignore[arg-type]
        shared = Update(key)
        _forget_stale_users(shared, items.get(key), now)
        _remember(shared, items.get(key), "usr", user_id, now, MAX_USERS, keep_first=False)
        updates.append(shared)
    return updates


def account_change_updates(user_id: str, now: float, items: Mapping[str, Item | None]) -> list[Update]:
    """A change to the user's credentials or contact details counts against the user for a day."""
    key = entity_key("user", user_id)
    update = Update(key)
    _count(update, items.get(key), "user", "c", now, 1.0)
    return [update]

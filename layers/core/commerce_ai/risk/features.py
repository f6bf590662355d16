"""The model's input for one payment: velocity features from the entities' state before it, plus graph
features from the served snapshot. The training replay and the scoring handler both call
`payment_features`, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from commerce_ai.risk.graph import GRAPH_FEATURES, GraphSnapshot
from commerce_ai.risk.velocity import Item, entity_key, travel_from_last, users_seen, window_total

SESSION_SECONDS = 2 * 3600  # a payment belongs to the login session opened on its device this recently
MAX_KNOWN_HOURS = 30 * 24.0
ENTITIES = ("user", "device", "ip", "merchant")
WINDOW_NAMES = ("1h", "24h", "7d")
# Count and amount (log1p) per entity and window, in this order: user_payments_1h, ..., merchant_amount_7d_log.
WINDOW_FEATURES = tuple(
    name
    for entity in ENTITIES
    for name in (
        *(f"{entity}_payments_{w}" for w in WINDOW_NAMES),
        *(f"{entity}_amount_{w}_log" for w in WINDOW_NAMES),
    )
)
VELOCITY_FEATURES = (
    "amount_log",
    "amount_vs_user_mean_log",
    *WINDOW_FEATURES,
    "user_age_days",
    "user_failed_logins_1h",
    "user_failed_logins_24h",
    "user_account_changes_24h",
    "device_new_for_user",
    "device_known_hours",
    "ip_new_for_user",
    "device_users_7d",
    "ip_users_7d",
    "merchant_spike",
    "distance_km_log",
    "speed_kmh",
    "seconds_since_last_log",
    "session_speed_kmh",
    "session_new_device",
    "minutes_since_login",
)
FEATURE_NAMES = VELOCITY_FEATURES + GRAPH_FEATURES
# What the rules read besides the model's features (not model inputs, so adding one needs no retraining).
RULE_SIGNALS = ("device_small_payments_1h",)


def velocity_features(
    user_id: str,
    device_id: str,
    ip: str,
    merchant_id: str,
    amount: float,
    now: float,
    lat: float,
    lon: float,
    items: Mapping[str, Item | None],
) -> list[float]:
    user = items.get(entity_key("user", user_id)) or {}
    device = items.get(entity_key("device", device_id))
    address = items.get(entity_key("ip", ip))
    merchant = items.get(entity_key("merchant", merchant_id))

    by_entity = {"user": user, "device": device, "ip": address, "merchant": merchant}
    windows = [
        value
        for item in by_entity.values()
        for value in (
            *(window_total(item, "n", w, now) for w in WINDOW_NAMES),
            *(math.log1p(window_total(item, "v", w, now)) for w in WINDOW_NAMES),
        )
    ]
    user_n_7d, user_v_7d = window_total(user, "n", "7d", now), window_total(user, "v", "7d", now)
    mean = user_v_7d / user_n_7d if user_n_7d else 0.0
    devices: Mapping[str, Any] = user.get("dev", {})
    first_on_device = devices.get(device_id)
    known_hours = 0.0 if first_on_device is None else min((now - float(first_on_device)) / 3600, MAX_KNOWN_HOURS)
    distance, speed, seconds = travel_from_last(user, now, lat, lon)
    merchant_7d = window_total(merchant, "n", "7d", now)
    merchant_24h = window_total(merchant, "n", "24h", now)

    in_session = user.get("sd") == device_id and 0 <= now - float(user.get("st", -1e18)) <= SESSION_SECONDS
    return [
        math.log1p(amount),
        math.log((amount + 1) / (mean + 1)) if mean else 0.0,
        *windows,
        (now - float(user["first"])) / 86400 if "first" in user else 0.0,
        window_total(user, "f", "1h", now),
        window_total(user, "f", "24h", now),
        window_total(user, "c", "24h", now),
        0.0 if first_on_device is not None else 1.0,
        known_hours,
        0.0 if ip in user.get("ipm", {}) else 1.0,
        float(users_seen(device, now)),
        float(users_seen(address, now)),
        merchant_24h / (merchant_7d / 7 + 1.0),
        math.log1p(distance),
        speed,
        math.log1p(seconds) if "lt" in user else -1.0,
        float(user.get("ss", 0.0)) if in_session else 0.0,
        float(user.get("sn", 0.0)) if in_session else 0.0,
        min((now - float(user["st"])) / 60, 120.0) if in_session else 120.0,
    ]


def rule_signals(device_id: str, now: float, items: Mapping[str, Item | None]) -> dict[str, float]:
    """RULE_SIGNALS for a payment given its entities' state before it."""
    device = items.get(entity_key("device", device_id))
    return {"device_small_payments_1h": window_total(device, "s", "1h", now)}


def rule_inputs(
    features: list[float], device_id: str, now: float, items: Mapping[str, Item | None]
) -> dict[str, float]:
    """What the rules decide on: the model's features by name and the rule signals."""
    return {**dict(zip(FEATURE_NAMES, features, strict=True)), **rule_signals(device_id, now, items)}


def payment_features(
    user_id: str,
    device_id: str,
    ip: str,
    merchant_id: str,
    amount: float,
    now: float,
    lat: float,
    lon: float,
    items: Mapping[str, Item | None],
    graph: GraphSnapshot,
) -> list[float]:
    """FEATURE_NAMES, in order, for a payment given its entities' state before it."""
    return velocity_features(user_id, device_id, ip, merchant_id, amount, now, lat, lon, items) + graph.features(
        user_id, device_id, ip, merchant_id
    )

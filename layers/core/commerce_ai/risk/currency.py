"""One currency in every total: payments in another are converted by a configured table, or refused.

Velocity windows add payment amounts per user, device, IP and merchant, and the rules compare them with
limits (20,000 declines, 5,000 reviews, card testing at 5): all of that is in the shop's currency. A
payment in another currency is converted at the rate `RISK_EXCHANGE_RATES` gives for it (shop-currency
units per unit, e.g. `EUR=1.08,GBP=1.27`, kept by whoever runs the shop, as a payment provider's daily
rates would be), or refused with a 400 naming the currencies accepted. Never summed as if it were the
shop's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from commerce_ai.api_fields import SHOP_CURRENCY
from commerce_ai.config import ConfigError
from commerce_ai.errors import InvalidInput

RATE = re.compile(r"^([A-Z]{3})=([0-9]+(?:\.[0-9]+)?)$")


def parse_rates(variable: str, raw: str) -> dict[str, float]:
    """`EUR=1.08,GBP=1.27` as {"EUR": 1.08, "GBP": 1.27}; a ConfigError names what is wrong."""
    rates: dict[str, float] = {}
    for entry in (e.strip() for e in raw.split(",") if e.strip()):
        found = RATE.match(entry)
        if not found or not math.isfinite(float(found.group(2))) or float(found.group(2)) <= 0:
            raise ConfigError(f"{variable}: {entry!r} is not CODE=rate with a positive rate (e.g. EUR=1.08)")
        rates[found.group(1)] = float(found.group(2))
    if rates.get(SHOP_CURRENCY, 1.0) != 1.0:
        raise ConfigError(f"{variable}: the shop's own currency {SHOP_CURRENCY} converts at 1")
    return rates


def in_shop_currency(amount: float, currency: str, rates: Mapping[str, float]) -> float:
    """`amount` of `currency` in the shop's currency, or InvalidInput if there is no rate for it."""
    if currency == SHOP_CURRENCY:
        return amount
    rate = rates.get(currency)
    if rate is None:
        accepted = ", ".join([SHOP_CURRENCY, *sorted(c for c in rates if c != SHOP_CURRENCY)])
        raise InvalidInput(f"currency {currency} is not handled here: payments in {accepted} only")
    return round(amount * rate, 4)

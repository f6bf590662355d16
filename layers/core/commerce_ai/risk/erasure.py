"""Risk's part of the shop-wide erasure (`commerce_ai.erasure`, `DELETE /users/{user_id}`): the user's
velocity state (devices, IP addresses, last place), their entry in the state of the devices and IPs they
used, and their scored transactions. Their block-list entry, if an admin blocked them, stays
(`RiskStore.erase_user`)."""

from __future__ import annotations

from commerce_ai.risk.settings import settings
from commerce_ai.risk.store import RiskStore


def erase_user(user_id: str) -> int:
    # Not risk.service's store: that module brings the model loader, which erasure has no use for.
    store = RiskStore(settings().need("risk_state_table"), settings().need("risk_results_table"))
    return store.erase_user(user_id)

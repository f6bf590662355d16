"""Pricing's price changes copied into the shop catalogue's `price` (`commerce_ai.catalog`), so the
storefront, search and recommendations' price filters read the price pricing set: a subscriber of
PriceChangesTopic with its own queue (CataloguePriceChangesQueue), like any other.

Idempotent and order-safe without a ledger of event ids: the catalogue item's price is set to the event's
new price only where it still holds the event's old price (or holds the new one already: a redelivery
changes nothing). A SKU the catalogue does not list is skipped (pricing may price SKUs the shop does not
show). An item whose price is neither is refused: an earlier change has not arrived yet (the queue retries
this one, which applies once the earlier one has), or the catalogue's price was set elsewhere, and after
three receives the event waits in the DLQ for an operator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.catalog.store import Catalog
from commerce_ai.messages import parse_json
from commerce_ai.pricing.observations import SKU_ID

Outcome = Literal["applied", "not_in_catalogue"]


class PriceDisagrees(RuntimeError):
    """The catalogue item's price is neither the change's old nor its new price."""


class PriceChanged(BaseModel):
    """A PriceChangesTopic event, as `price_events.PriceChange.message` writes it (the fields used here)."""

    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(min_length=1, max_length=300)
    type: Literal["price_changed"]
    sku: str = Field(pattern=SKU_ID)
    old_price: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    new_price: float = Field(gt=0, allow_inf_nan=False)


def apply_price_change(catalog: Catalog, body: str, now: datetime) -> Outcome:
    """Copy one price change into the catalogue; InvalidInput for a message that is not one, PriceDisagrees
    for an item whose price is another (retried, then the DLQ)."""
    change = parse_json(body, PriceChanged, "price change")
    held = catalog.set_price(change.sku, change.new_price, change.old_price, now)
    if held is None:
        return "not_in_catalogue"
    if not held:
        raise PriceDisagrees(
            f"catalogue item {change.sku} holds neither {change.old_price} nor {change.new_price} "
            f"(event {change.event_id}): an earlier change is still on its way, or the price was set elsewhere"
        )
    return "applied"

"""Competitor price observations: validation of what arrives on the queue, and DynamoDB storage.

Message body: {"sku", "competitor", "price", "currency", "observed_at"}. Storage keeps the latest price
per competitor (an older observation never overwrites a newer one, whatever the delivery order) and a
price-history series; a redelivered message changes nothing.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from commerce_ai import aws
from commerce_ai.api_fields import SHOP_CURRENCY, storable_fields
from commerce_ai.clock import four_digit_year
from commerce_ai.errors import InvalidInput
from commerce_ai.messages import parse_json
from commerce_ai.pricing.competitors import Observation

IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"
# A SKU is a URL path segment (`/pricing/prices/{sku}`), so it has no "/".
SKU_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def checked_sku(sku: str) -> str:
    """`sku` if it is a valid SKU id, else InvalidInput naming it (shortened: it may be hostile)."""
    if not re.fullmatch(SKU_ID, sku):
        raise InvalidInput(f"SKU {sku[:140]!r} is not valid (letters, digits and . _ : -, up to 128)")
    return sku


# Catalog prices, costs and competitor prices are in one currency; an observation in another is refused
# rather than mixed into the competitor index (convert before sending).
CATALOG_CURRENCY = SHOP_CURRENCY
CLOCK_SKEW = timedelta(minutes=5)
Outcome = Literal["latest", "older"]


class CompetitorPrice(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: str = Field(pattern=SKU_ID)
    competitor: str = Field(pattern=IDENTIFIER, max_length=64)
    price: float = Field(gt=0, le=1_000_000)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    observed_at: datetime

    _storable = storable_fields("price")

    @field_validator("currency")
    @classmethod
    def _catalog_currency(cls, currency: str) -> str:
        if currency != CATALOG_CURRENCY:
            raise ValueError(f"currency must be the catalog's, {CATALOG_CURRENCY}; convert before sending")
        return currency

    @field_validator("price")
    @classmethod
    def _finite(cls, price: float) -> float:
        if not math.isfinite(price):
            raise ValueError("price must be a finite number")
        return price

    @field_validator("observed_at")
    @classmethod
    def _aware(cls, observed_at: datetime) -> datetime:
        if observed_at.tzinfo is None:
            raise ValueError("observed_at needs a timezone, e.g. 2026-11-27T10:00:00Z")
        four_digit_year(observed_at)
        return observed_at.astimezone(UTC)

    def as_observation(self) -> Observation:
        return Observation(self.competitor, self.price, self.observed_at)


def parse_competitor_price(body: str, now: datetime) -> CompetitorPrice:
    """A validated observation, or InvalidInput saying what is wrong (the record then fails alone)."""
    observation = parse_json(body, CompetitorPrice, "competitor price")
    if observation.observed_at > now + CLOCK_SKEW:
        raise InvalidInput(f"observed_at {observation.observed_at.isoformat()} is in the future")
    return observation


def _stamp(moment: datetime) -> str:
    # One fixed format, so DynamoDB's string comparison orders observations in time.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class CompetitorPriceStore:
    """Items in the pricing table (partition `sku`, sort `item`):
    `competitor#<name>` holds the latest observation, `history#<name>#<time>` one per observation."""

    ddb = aws.ClientAttribute("dynamodb")

    def __init__(self, table: str, dynamodb: Any | None = None) -> None:
        self.table = table
        self._ddb = dynamodb

    def record(self, observation: CompetitorPrice) -> Outcome:
        """Store one observation. Both writes are idempotent on their own, so a retry after a failure
        between them (or a redelivered message) completes the record without duplicating anything."""
        stamp = _stamp(observation.observed_at)
        values = {
            "sku": {"S": observation.sku},
            "price": {"N": repr(observation.price)},
            "currency": {"S": observation.currency},
            "observed_at": {"S": stamp},
            "competitor": {"S": observation.competitor},
        }
        self._put_unless(
            {**values, "item": {"S": f"history#{observation.competitor}#{stamp}"}},
            "attribute_not_exists(#i)",
            {},
        )
        newest = self._put_unless(
            {**values, "item": {"S": f"competitor#{observation.competitor}"}},
            "attribute_not_exists(#i) OR observed_at <= :t",
            {":t": {"S": stamp}},
        )
        return "latest" if newest else "older"

    def _put_unless(self, item: dict[str, Any], condition: str, values: dict[str, Any]) -> bool:
        """Put `item` if `condition` holds; False (not an error) if it does not."""
        return aws.put_if(
            self.ddb,
            TableName=self.table,
            Item=item,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#i": "item"},
            **({"ExpressionAttributeValues": values} if values else {}),
        )

    def latest(self, sku: str) -> dict[str, Observation]:
        return {o.competitor: o for o in self._query(sku, "competitor#")}

    def history(self, sku: str, competitor: str) -> list[Observation]:
        return self._query(sku, f"history#{competitor}#")

    def _query(self, sku: str, prefix: str) -> list[Observation]:
        found = []
        paginator = self.ddb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table,
            KeyConditionExpression="#s = :s AND begins_with(#i, :p)",
            ExpressionAttributeNames={"#s": "sku", "#i": "item"},
            ExpressionAttributeValues={":s": {"S": sku}, ":p": {"S": prefix}},
        ):
            for item in page.get("Items", []):
                observed = datetime.strptime(item["observed_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
                found.append(Observation(item["competitor"]["S"], float(item["price"]["N"]), observed))
        return found

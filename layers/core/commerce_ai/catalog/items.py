"""What the catalogue holds about an item, the same for the HTTP API, the bulk import and every reader.

An item id is a URL path segment (`/catalog/items/{item_id}`), so it follows the SKU rule: letters, digits
and `. _ : -`, up to 128 characters, no `/`. Pricing's SKUs are catalogue item ids.

`in_stock` is what filters read. When a writer gives a `stock` count and no `in_stock`, the count decides
(more than zero is in stock); when it gives neither, the item is in stock. `attributes` holds whatever else
a shop knows (colour, size, year, genres) as flat string, number or boolean values, up to 2 KB in all, so an
item stays one small DynamoDB read.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictStr, field_validator

from commerce_ai.api_fields import Money, Quantity, Timestamp, identifier_pattern, storable_fields

ITEM_ID = identifier_pattern("._:-")  # a path segment (api_fields), and an S3 key's part (product images)
ATTRIBUTE_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_BYTES = 2048
MAX_PRICE = 10_000_000.0

AttributeValue = StrictStr | StrictBool | StrictFloat


class ItemFields(BaseModel):
    """An item as a writer sends it (`PUT /catalog/items/{item_id}`, one line of an import)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    category: str = Field(min_length=1, max_length=100, description="The item's category, e.g. `juice`.")
    brand: str | None = Field(default=None, min_length=1, max_length=100)
    price: Money | None = Field(default=None, ge=0, le=MAX_PRICE, description="Current price (shop currency).")
    in_stock: bool | None = Field(default=None, description="Sellable now; defaults from `stock`, else true.")
    stock: Quantity | None = Field(default=None, ge=0, le=1e9, description="Units on hand, if tracked.")
    image_url: str | None = Field(default=None, max_length=2048, pattern=r"^(https?|s3)://\S+$")
    attributes: dict[str, AttributeValue] = Field(
        default_factory=dict,
        max_length=MAX_ATTRIBUTES,
        description="Flat extra fields (names: a letter then letters, digits, `_`), up to 2 KB of JSON.",
    )

    _storable = storable_fields("price", "stock")

    @field_validator("attributes")
    @classmethod
    def _small_flat_attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [name for name in value if not re.fullmatch(ATTRIBUTE_NAME, name)]
        if bad:
            raise ValueError(f"attribute names must start with a letter and hold letters, digits or _: {bad[:5]}")
        # DynamoDB numbers have 38 significant digits within 1e-130..1e126; keep well inside.
        odd = [n for n, v in value.items() if isinstance(v, float) and v != 0 and not 1e-9 <= abs(v) <= 1e15]
        if odd:
            raise ValueError(f"attribute numbers must be 0 or between 1e-9 and 1e15 in size: {odd[:5]}")
        size = len(json.dumps(value, separators=(",", ":")).encode())
        if size > MAX_ATTRIBUTE_BYTES:
            raise ValueError(f"attributes are {size} bytes of JSON; at most {MAX_ATTRIBUTE_BYTES}")
        return value

    def stocked(self) -> bool:
        if self.in_stock is not None:
            return self.in_stock
        return self.stock is None or self.stock > 0

    def at(self, item_id: str, updated_at: datetime) -> CatalogItem:
        """This item stored under `item_id`, as of `updated_at`."""
        return CatalogItem(
            item_id=item_id,
            **{**self.model_dump(exclude={"in_stock", "item_id"}), "in_stock": self.stocked()},
            updated_at=updated_at,
        )


class ImportedItem(ItemFields):
    """One line of a JSON-lines import: the item's fields with its id."""

    item_id: str = Field(pattern=ITEM_ID)


class CatalogItem(BaseModel):
    """An item as the catalogue stores and every reader sees it."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    item_id: str = Field(pattern=ITEM_ID)
    title: str
    category: str
    brand: str | None = None
    price: Money | None = None
    in_stock: StrictBool = True
    stock: Quantity | None = None
    image_url: str | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    updated_at: Timestamp

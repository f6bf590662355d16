"""The catalogue's HTTP contract: the bodies of the `/catalog` routes (README, "Catalogue")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.catalog.items import ITEM_ID
from commerce_ai.paging import PageQuery


class ItemPath(BaseModel):
    item_id: str = Field(pattern=ITEM_ID, description="Letters, digits and . _ : -, up to 128, no `/`.")


class ItemsQuery(PageQuery):
    limit: int = Field(default=50, ge=1, le=200, description="Items per page.")


class ItemRemoved(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str
    removed: bool

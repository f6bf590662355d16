"""The shop-wide erasure's HTTP contract: `DELETE /users/{user_id}` (README, "Privacy by expiry")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from commerce_ai.api_fields import Count, Timestamp
from commerce_ai.stream.schema import IDENTIFIER


class UserPath(BaseModel):
    user_id: str = Field(pattern=IDENTIFIER, description="The user id the behaviour events carry.")


class Erased(BaseModel):
    """What the shop-wide erasure removed, per capability that keeps per-user data."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    user_id: str
    erased_at: Timestamp
    removed: dict[str, Count]

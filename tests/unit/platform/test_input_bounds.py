"""Inputs that reach storage are checked where they are read (issue 18, part 4): numbers DynamoDB cannot
hold, settings without upper bounds, and years with fewer than four digits are refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from commerce_ai.catalog.items import ItemFields
from commerce_ai.errors import safe_reason
from commerce_ai.experiments.definitions import ArmSpec, ExperimentChange
from commerce_ai.forecasting.contract import InventoryChange
from commerce_ai.pricing.catalog import SkuSettings
from commerce_ai.stream.schema import BehaviourEvent

EVENT = {
    "event_id": "e-1",
    "user_id": "u-1",
    "session_id": "s-1",
    "event_type": "purchase",
    "timestamp": "2026-12-05T10:00:00Z",
    "item_id": "sku-1",
    "price": 2.5,
    "quantity": 1,
}


@pytest.mark.parametrize(
    ("model", "body", "field"),
    [
        (SkuSettings, {"price": 1e-200}, "price"),  # gt=0 holds, but DynamoDB stops at 1e-130
        (SkuSettings, {"inventory": 1e-200}, "inventory"),
        (SkuSettings, {"inventory": 1e12}, "inventory"),  # had no upper bound
        (ItemFields, {"title": "t", "category": "c", "stock": 1e-300}, "stock"),
        (InventoryChange, {"on_hand": 1e-140, "lead_time_periods": 1}, "on_hand"),
        (ArmSpec, {"name": "a", "variant": "v", "weight": 1e-200}, "weight"),
        (ExperimentChange, {"revision": 10**40}, "revision"),  # more digits than a DynamoDB number holds
        (BehaviourEvent, {**EVENT, "price": 1e300}, "price"),
        (BehaviourEvent, {**EVENT, "price": 1e-200}, "price"),
        (BehaviourEvent, {**EVENT, "timestamp": "0999-12-05T10:00:00Z"}, "timestamp"),
    ],
)
def test_values_storage_cannot_hold_are_refused_naming_the_field(
    model: type[BaseModel], body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert field in {str(e["loc"][0]) for e in refused.value.errors()}


def test_zero_and_ordinary_values_still_pass() -> None:
    assert SkuSettings.model_validate({"inventory": 0.0, "price": 2.5}).inventory == 0.0
    assert BehaviourEvent.model_validate({**EVENT, "price": 0}).price == 0.0


def test_reasons_never_carry_resource_names_or_account_ids() -> None:
    from botocore.exceptions import ClientError

    denied = ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "User: arn:aws:sts::123456789012:assumed-role/x is not authorized on "
                "arn:aws:dynamodb:us-east-1:123456789012:table/shop-PricingTable",
            }
        },
        "PutItem",
    )
    assert safe_reason(denied) == "ClientError: AccessDeniedException from PutItem"
    other = RuntimeError("cannot read s3://shop-artifacts-123456789012-us-east-1/models/x from 123456789012")
    shown = safe_reason(other)
    assert "123456789012" not in shown and "shop-artifacts" not in shown and shown.startswith("RuntimeError: ")

"""The orders backend the bot answers from, behind a small interface (`OrdersBackend`), and the rules
engine that decides what a customer may do to an order and says why.

The shop's real order system would implement `OrdersBackend`; here `store.DynamoOrders` reads a DynamoDB
orders table seeded with demo orders (`model_build/support/data/orders.json`).
"""

# ruff: noqa: RUF001  (Chinese replies and patterns use Chinese full-width punctuation on purpose)

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

OrderState = Literal["placed", "packed", "shipped", "delivered", "cancelled", "returned"]
RefundState = Literal["none", "requested", "processing", "refunded"]
# Before dispatch: the warehouse has not handed the parcel to the courier.
BEFORE_DISPATCH: frozenset[str] = frozenset({"placed", "packed"})


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str
    user_id: str
    email: str
    phone: str
    status: OrderState
    items: list[str] = Field(default_factory=list)
    address: str
    placed_at: datetime
    eta: str  # the promised delivery date, YYYY-MM-DD
    carrier: str | None = None
    tracking: str | None = None
    refund: RefundState = "none"
    refund_amount: float | None = None


class OrdersBackend(Protocol):
    def get(self, order_id: str) -> Order | None: ...

    def cancel(self, order_id: str) -> Order: ...

    def change_address(self, order_id: str, address: str) -> Order: ...


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str  # which rule decided, for the transcript and tests
    why: dict[str, str]  # per language: the reason said to the customer


def may_cancel(order: Order) -> Verdict:
    if order.status in BEFORE_DISPATCH:
        return Verdict(True, "cancel_before_dispatch", {"en": "it has not been dispatched yet", "zh": "订单尚未发货"})
    if order.status == "cancelled":
        return Verdict(False, "already_cancelled", {"en": "it is already cancelled", "zh": "订单已经取消了"})
    return Verdict(
        False,
        "shipped_cannot_cancel",
        {
            "en": f"it has already been {order.status}, and a shipped order cannot be cancelled; you can return it "
            "within 30 days of delivery instead",
            "zh": f"订单已{_ZH_STATUS[order.status]}，已发货的订单不能取消；签收后30天内可以申请退货",
        },
    )


def may_change_address(order: Order) -> Verdict:
    if order.status in BEFORE_DISPATCH:
        return Verdict(True, "address_before_dispatch", {"en": "it has not been dispatched yet", "zh": "订单尚未发货"})
    return Verdict(
        False,
        "address_only_before_dispatch",
        {
            "en": f"it has already been {order.status}: an address can only change before dispatch",
            "zh": f"订单已{_ZH_STATUS[order.status]}，只有发货前才能修改地址",
        },
    )


_ZH_STATUS: dict[str, str] = {
    "placed": "下单",
    "packed": "打包",
    "shipped": "发货",
    "delivered": "签收",
    "cancelled": "取消",
    "returned": "退货",
}


def status_words(order: Order, language: str) -> str:
    return _ZH_STATUS[order.status] if language == "zh" else order.status

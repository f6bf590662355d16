"""Slot extraction and validation for the bot's forms (like a Rasa form: ask for what is missing, one
question at a time, validate each answer).

`order_status`, `refund_status` and `cancel_order` need the order id and the email or phone on the order
(the contact proves the customer may see it: an order id alone is guessable); `change_address` needs the
new address too.
"""

# ruff: noqa: RUF001  (Chinese replies and patterns use Chinese full-width punctuation on purpose)

from __future__ import annotations

import re
from dataclasses import dataclass

from commerce_ai.support.orders import Order

FORMS: dict[str, tuple[str, ...]] = {
    "order_status": ("order_id", "contact"),
    "refund_status": ("order_id", "contact"),
    "cancel_order": ("order_id", "contact"),
    "change_address": ("order_id", "contact", "new_address"),
}
ORDER_ID = re.compile(r"(?<![a-z0-9])([a-z]\d{4,8})(?![0-9])", re.IGNORECASE)
EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
PHONE = re.compile(r"(?<![\d])\+?\d[\d -]{5,16}\d(?![\d])")
_ADDRESS_CUE = re.compile(
    r"(?:address to|deliver(?: it)? to|send it to|ship it to|改成|改为|改到|寄到|送到)\s*[:：]?\s*(.+)$", re.I
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def order_id_in(text: str) -> str | None:
    found = ORDER_ID.search(text)
    return found.group(1).upper() if found else None


def contact_in(text: str) -> str | None:
    email = EMAIL.search(text)
    if email:
        return email.group(0).lower()
    phone = PHONE.search(text)
    if phone:
        digits = re.sub(r"\D", "", phone.group(0))
        return digits if 7 <= len(digits) <= 15 else None
    return None


def address_in(text: str, asked: bool) -> str | None:
    """A new address: after a cue ("change the address to ...", "改成...") or, when the bot just asked for
    it, the whole answer. Valid: 6-200 characters with a house number or at least 4 Chinese characters."""
    cue = _ADDRESS_CUE.search(text.strip())
    candidate = cue.group(1).strip() if cue else (text.strip() if asked else None)
    if candidate is None:
        return None
    candidate = candidate.rstrip(".。!！")
    if not 6 <= len(candidate) <= 200:
        return None
    if not (re.search(r"\d", candidate) or len(_CJK.findall(candidate)) >= 4):
        return None
    return candidate


def contact_matches(order: Order, contact: str) -> bool:
    if "@" in contact:
        return contact.lower() == order.email.lower()
    on_order = re.sub(r"\D", "", order.phone)
    return len(contact) >= 7 and (on_order.endswith(contact) or contact.endswith(on_order))


@dataclass(frozen=True)
class Problem:
    """Why an answer was not accepted, said to the customer in their language."""

    en: str
    zh: str

    def said(self, language: str) -> str:
        return self.zh if language == "zh" else self.en

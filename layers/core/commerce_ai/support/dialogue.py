"""The bot's turn: classify, fill the active form, apply the order rules, answer from the FAQ, decide on
hand-off. Pure: the state comes in and goes out; orders and the FAQ come through their interfaces.

Rasa's pieces, in a Lambda-sized package: intents with a confidence threshold and fallback (`intents`),
forms that ask one question at a time and validate each answer (`slots.FORMS`), context carried over
(`ConversationState.verified_order`), business rules (`orders.may_cancel`, `may_change_address`), and
hand-off to people (emotion above 0.7, a request for a human, or two fallbacks in a row).
"""

# ruff: noqa: RUF001  (Chinese replies and patterns use Chinese full-width punctuation on purpose)

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from commerce_ai.support import emotion as emotion_scorer
from commerce_ai.support.conversation import ConversationState, Message
from commerce_ai.support.faq import FaqIndex
from commerce_ai.support.graph import ProductGraph, answer_product, size_from_chart
from commerce_ai.support.intents import OUT_OF_SCOPE, IntentModel, IntentPrediction
from commerce_ai.support.orders import Order, OrdersBackend, may_cancel, may_change_address, status_words
from commerce_ai.support.slots import FORMS, Problem, address_in, contact_in, contact_matches, order_id_in
from commerce_ai.support.text import language_of

if TYPE_CHECKING:  # numpy is in MlLayer: imported where used, so the tickets function (no MlLayer) loads
    import numpy as np

FALLBACKS_BEFORE_HANDOFF = 2
# While a form waits for an answer, another intent takes over only this sure of itself (a bare "A1001"
# or an e-mail address is never a confident intent, so it stays an answer).
TOPIC_CHANGE_CONFIDENCE = 0.5
Embed = Callable[[str], "np.ndarray"]

_INTENT_WORDS: dict[str, tuple[str, str]] = {
    "order_status": ("where your order is", "查询订单状态"),
    "return_request": ("returning an item", "退货"),
    "refund_status": ("your refund", "退款进度"),
    "shipping_time": ("delivery times", "配送时间"),
    "change_address": ("changing the delivery address", "修改收货地址"),
    "cancel_order": ("cancelling an order", "取消订单"),
    "payment_problem": ("a payment problem", "支付问题"),
    "product_question": ("a product question", "商品咨询"),
    "size_guide": ("choosing a size", "尺码选择"),
    "coupon_promo": ("coupons and promotions", "优惠券和活动"),
    "complaint": ("a complaint", "投诉"),
    "human_agent": ("talking to a person", "转人工"),
    "greeting": ("saying hello", "打招呼"),
    "goodbye": ("finishing", "结束对话"),
}
_QUESTIONS: dict[str, tuple[str, str]] = {
    "order_id": ("What is your order number? It looks like A1001.", "请问您的订单号是多少？格式如 A1001。"),
    "contact": (
        "To protect your privacy, what email address or phone number is on the order?",
        "为了保护您的隐私，请提供下单时留的邮箱或手机号。",
    ),
    "new_address": ("What is the new delivery address?", "请问新的收货地址是什么？"),
}
_SIZES = (("S", 50, 60), ("M", 60, 70), ("L", 70, 80), ("XL", 80, 90))


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    conversation_id: str
    user_id: str
    reason: str  # emotion | request | fallbacks
    intent: str
    slots: dict[str, str]
    emotion: float
    language: str
    transcript: list[Message]
    created_at: datetime


@dataclass
class Turn:
    reply: str
    intent: str
    confidence: float
    emotion: float
    handoff: bool
    ticket: Ticket | None = None
    notes: list[str] = field(default_factory=list)  # rules applied, for tests and the report


def _say(language: str, en: str, zh: str) -> str:
    return zh if language == "zh" else en


class Bot:
    def __init__(
        self, model: IntentModel, faq: FaqIndex, orders: OrdersBackend, embed: Embed, graph: ProductGraph | None = None
    ) -> None:
        self.model = model
        self.faq = faq
        self.orders = orders
        self.embed = embed
        self.graph = graph

    # -- the turn ----------------------------------------------------------------------------------------

    def respond(self, state: ConversationState, text: str, now: datetime) -> Turn:
        if _has_words(text):  # a bare order id, e-mail or phone number keeps the conversation's language
            state.language = language_of(text)
        emotion = emotion_scorer.score(text)
        vector = self.embed(text)
        prediction = self.model.predict_vector(vector)
        state.add(Message(role="customer", text=text, at=now, intent=prediction.intent, emotion=emotion))
        if state.owner == "agent":  # a person owns the conversation: the bot stays silent
            return Turn("", prediction.intent, prediction.confidence, emotion, True, notes=["agent_owns"])
        turn = self._turn(state, text, vector, prediction, emotion, now)
        state.remember(turn.intent)
        if turn.reply:
            state.add(Message(role="bot", text=turn.reply, at=now, intent=turn.intent))
        return turn

    def _turn(
        self,
        state: ConversationState,
        text: str,
        vector: np.ndarray,
        prediction: IntentPrediction,
        emotion: float,
        now: datetime,
    ) -> Turn:
        language = state.language
        intent, confidence = prediction.intent, prediction.confidence
        if state.form is not None:
            answered = self._take_answer(state, text)
            changing = (
                not answered and intent not in (OUT_OF_SCOPE, state.form) and confidence >= TOPIC_CHANGE_CONFIDENCE
            )
            if not changing:
                intent = state.form
            else:
                state.form, state.pending_slot = None, None
        if emotion > emotion_scorer.HANDOFF_THRESHOLD:
            return self._hand_off(state, "emotion", intent, confidence, emotion, now)
        if intent == "human_agent":
            return self._hand_off(state, "request", intent, confidence, emotion, now)
        if intent in FORMS:
            state.fallbacks = 0
            return self._form(state, intent, text, confidence, emotion)
        reply = self._answer(state, intent, text, vector, prediction)
        if reply is None:  # nothing fits: a fallback
            state.fallbacks += 1
            if state.fallbacks >= FALLBACKS_BEFORE_HANDOFF:
                return self._hand_off(state, "fallbacks", OUT_OF_SCOPE, confidence, emotion, now)
            guess = _INTENT_WORDS.get(prediction.best_guess)
            suggestion = (
                _say(language, f" Is it about {guess[0]}?", f"您是想咨询{guess[1]}吗？")
                if guess and prediction.best_guess != "out_of_scope"
                else ""
            )
            reply = _say(
                language,
                "Sorry, I'm not sure I understood." + suggestion + " I can help with orders, returns, refunds, "
                "delivery, payments, coupons and sizes.",
                "抱歉，我没太明白。" + suggestion + "我可以帮您查询订单、退货退款、配送、支付、优惠券和尺码。",
            )
            return Turn(reply, OUT_OF_SCOPE, confidence, emotion, False, notes=["fallback"])
        state.fallbacks = 0
        return Turn(reply, intent, confidence, emotion, False)

    # -- forms -----------------------------------------------------------------------------------------

    def _take_answer(self, state: ConversationState, text: str) -> bool:
        """Fill the pending slot from this message, if it holds one (validated later, in `_form`)."""
        slot = state.pending_slot
        if slot == "order_id" and (order_id := order_id_in(text)):
            state.slots["order_id"] = order_id
            return True
        if slot == "contact" and (contact := contact_in(text)):
            state.slots["contact"] = contact
            return True
        if slot == "new_address" and (address := address_in(text, asked=True)):
            state.slots["new_address"] = address
            return True
        return False

    def _form(self, state: ConversationState, intent: str, text: str, confidence: float, emotion: float) -> Turn:
        language = state.language
        if state.form != intent:
            state.form = intent
            state.slots.pop("new_address", None)
        if order_id := order_id_in(text):
            if order_id != state.slots.get("order_id"):
                state.slots.pop("contact", None)
            state.slots["order_id"] = order_id
        elif "order_id" not in state.slots and state.verified_order:
            state.slots["order_id"] = state.verified_order  # context carried over from the last order talk
        if contact := contact_in(text):
            state.slots["contact"] = contact
        if intent == "change_address" and (address := address_in(text, asked=False)):
            state.slots["new_address"] = address
        problem: Problem | None = None
        order: Order | None = None
        if order_id := state.slots.get("order_id"):
            order = self.orders.get(order_id)
            if order is None:
                state.slots.pop("order_id")
                state.slots.pop("contact", None)
                problem = Problem(
                    f"I can't find an order {order_id}: please check the number.",
                    f"没有找到订单 {order_id}，请核对订单号。",
                )
        if order is not None and state.verified_order == order.order_id:
            state.slots.setdefault("contact", "verified")
        if order is not None and (contact := state.slots.get("contact")) and contact != "verified":
            if contact_matches(order, contact):
                state.verified_order = order.order_id
                state.slots["contact"] = "verified"
            else:
                state.slots.pop("contact")
                problem = Problem(
                    "That email or phone number doesn't match the order.", "该邮箱或手机号与订单信息不符。"
                )
        verified = state.slots.get("contact") == "verified"
        if order is not None and verified and intent == "change_address" and not may_change_address(order).allowed:
            state.form, state.pending_slot = None, None  # no point asking for an address that cannot be used
            state.slots["new_address"] = ""
            return self._act(state, intent, order, confidence, emotion)
        for slot in FORMS[intent]:
            if slot not in state.slots:
                state.pending_slot = slot
                question = _QUESTIONS[slot]
                reply = (problem.said(language) + " " if problem else "") + _say(language, *question)
                return Turn(reply, intent, confidence, emotion, False, notes=[f"ask:{slot}"])
        assert order is not None
        state.form, state.pending_slot = None, None
        return self._act(state, intent, order, confidence, emotion)

    def _act(self, state: ConversationState, intent: str, order: Order, confidence: float, emotion: float) -> Turn:
        language = state.language
        status = status_words(order, language)
        if intent == "order_status":
            reply = _say(
                language,
                f"Order {order.order_id} is {status}; expected delivery {order.eta}."
                + (f" Carrier {order.carrier}, tracking {order.tracking}." if order.tracking else ""),
                f"订单 {order.order_id} 当前状态：已{status}，预计 {order.eta} 送达。"
                + (f"承运商 {order.carrier}，运单号 {order.tracking}。" if order.tracking else ""),
            )
            return Turn(reply, intent, confidence, emotion, False)
        if intent == "refund_status":
            words = {
                "none": ("there is no refund on this order", "该订单没有退款"),
                "requested": ("your refund is requested and waits for the returned parcel", "退款已申请，等待退货签收"),
                "processing": ("your refund is being processed (2 business days)", "退款处理中（2个工作日）"),
                "refunded": ("your refund has been paid", "退款已完成"),
            }[order.refund]
            amount = f" ({order.refund_amount:.2f})" if order.refund_amount else ""
            reply = _say(
                language,
                f"Order {order.order_id}: {words[0]}{amount}.",
                f"订单 {order.order_id}：{words[1]}{amount}。",
            )
            return Turn(reply, intent, confidence, emotion, False)
        if intent == "cancel_order":
            verdict = may_cancel(order)
            if verdict.allowed:
                self.orders.cancel(order.order_id)
                reply = _say(
                    language,
                    f"Done: order {order.order_id} is cancelled, because {verdict.why['en']}. The refund follows "
                    "within 2 business days.",
                    f"已为您取消订单 {order.order_id}（{verdict.why['zh']}），退款将在2个工作日内原路返回。",
                )
            else:
                reply = _say(
                    language,
                    f"I can't cancel order {order.order_id}: {verdict.why['en']}.",
                    f"无法取消订单 {order.order_id}：{verdict.why['zh']}。",
                )
            return Turn(reply, intent, confidence, emotion, False, notes=[f"rule:{verdict.rule}"])
        verdict = may_change_address(order)
        address = state.slots.pop("new_address")
        if verdict.allowed:
            self.orders.change_address(order.order_id, address)
            reply = _say(
                language,
                f"Done: order {order.order_id} will go to {address}.",
                f"已将订单 {order.order_id} 的收货地址改为：{address}。",
            )
        else:
            reply = _say(
                language,
                f"I can't change the address of order {order.order_id}: {verdict.why['en']}.",
                f"无法修改订单 {order.order_id} 的地址：{verdict.why['zh']}。",
            )
        return Turn(reply, intent, confidence, emotion, False, notes=[f"rule:{verdict.rule}"])

    # -- everything else -------------------------------------------------------------------------------

    def _answer(
        self, state: ConversationState, intent: str, text: str, vector: np.ndarray, prediction: IntentPrediction
    ) -> str | None:
        language = state.language
        if intent == "greeting":
            return _say(language, "Hello! How can I help you today?", "您好！请问有什么可以帮您？")
        if intent == "goodbye":
            return _say(language, "Thank you, goodbye!", "感谢咨询，再见！")
        if intent == "complaint":
            return _say(
                language,
                "I'm sorry about this. Tell me what happened (with the order number if there is one) and I'll "
                "do what I can, or ask for a person at any time.",
                "非常抱歉给您带来不好的体验。请告诉我具体情况（如有订单号请一并提供），您也可以随时要求转人工。",
            )
        if intent == "shipping_time" and state.verified_order:
            order = self.orders.get(state.verified_order)
            if order is not None:  # "and when will it arrive?" after an order question: the same order
                return _say(
                    language,
                    f"Order {order.order_id} is {status_words(order, language)} and expected on {order.eta}.",
                    f"订单 {order.order_id} 已{status_words(order, language)}，预计 {order.eta} 送达。",
                )
        if self.graph is not None and intent in ("product_question", "size_guide"):
            from_graph = (answer_product if intent == "product_question" else size_from_chart)(
                self.graph, text, language
            )
            if from_graph is not None:
                return from_graph
        if intent == "size_guide" and (size := _size_for(text)):
            return _say(
                language,
                f"For your height and weight, size {size} (our tops fit true to size).",
                f"根据您的身高体重，建议选 {size} 码（上衣尺码标准）。",
            )
        match = self.faq.match(text, vector)
        if match is not None:
            return match.entry.answer.zh if language == "zh" else match.entry.answer.en
        if intent == OUT_OF_SCOPE:
            return None
        return _say(
            language,
            f"I can help with {_INTENT_WORDS[intent][0]}: could you tell me a little more?",
            f"关于{_INTENT_WORDS[intent][1]}，能再具体说说吗？",
        )

    def _hand_off(
        self, state: ConversationState, reason: str, intent: str, confidence: float, emotion: float, now: datetime
    ) -> Turn:
        state.owner = "agent"
        state.form, state.pending_slot, state.fallbacks = None, None, 0
        state.ticket_id = f"t-{uuid.uuid4().hex[:20]}"
        reply = _say(
            state.language,
            "I'm passing you to a colleague, who will answer here shortly.",
            "正在为您转接人工客服，请稍候，客服会在这里回复您。",
        )
        ticket = Ticket(
            ticket_id=state.ticket_id,
            conversation_id=state.conversation_id,
            user_id=state.user_id,
            reason=reason,
            intent=intent,
            slots={k: v for k, v in state.slots.items() if k != "contact"},
            emotion=emotion,
            language=state.language,
            transcript=list(state.transcript),
            created_at=now,
        )
        return Turn(reply, intent, confidence, emotion, True, ticket=ticket, notes=[f"handoff:{reason}"])


_NOT_WORDS = re.compile(r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}|(?<![a-z0-9])[a-z]\d{4,8}", re.IGNORECASE)
_WORDS = re.compile(r"[a-zA-Z]{2,}|[\u4e00-\u9fff]")


def _has_words(text: str) -> bool:
    return bool(_WORDS.search(_NOT_WORDS.sub(" ", text)))


_HEIGHT = re.compile(r"(\d{3})\s*(?:cm|厘米|公分)?")
_WEIGHT = re.compile(r"(\d{2,3})\s*(?:kg|公斤|千克)")
_WEIGHT_ZH = re.compile(r"体重\s*(\d{2,3})")


def _size_for(text: str) -> str | None:
    """A size from height (cm) and weight (kg) by the shop's chart (see the FAQ's size-chart entry)."""
    weight = _WEIGHT.search(text.lower()) or _WEIGHT_ZH.search(text)
    height = _HEIGHT.search(text.lower())
    if weight is None or height is None:
        return None
    kg = int(weight.group(1))
    cm = int(height.group(1))
    if not (120 <= cm <= 220 and 30 <= kg <= 150):
        return None
    for size, low, high in _SIZES:
        if low <= kg < high:
            return size
    return "S" if kg < _SIZES[0][1] else "XL"

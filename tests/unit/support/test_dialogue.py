"""The bot's domain over fakes: intents, slot validation, the order rules, the form state machine, context
carry-over and the hand-off triggers."""

# ruff: noqa: RUF001  (Chinese messages)

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from commerce_ai.support import emotion, encoder
from commerce_ai.support.contract import MAX_TEXT, MessageIn
from commerce_ai.support.conversation import ConversationState
from commerce_ai.support.dialogue import Bot, Turn
from commerce_ai.support.faq import FaqIndex
from commerce_ai.support.graph import Edge, answer_product, mentioned, path_between, size_from_chart
from commerce_ai.support.intents import IntentModel
from commerce_ai.support.orders import may_cancel, may_change_address
from commerce_ai.support.slots import address_in, contact_in, contact_matches, order_id_in
from commerce_ai.support.text import language_of
from model_build.support.seeding import demo_catalogue
from tests.support.support import MemoryOrders

NOW = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)


class Chat:
    def __init__(self, model: IntentModel, faq: FaqIndex) -> None:
        self.orders = MemoryOrders()
        self.bot = Bot(model, faq, self.orders, lambda text: encoder.embed([text])[0])
        self.state = ConversationState(
            conversation_id="c-1", user_id="u-1", channel="web", created_at=NOW, updated_at=NOW, expires_at=0
        )

    def say(self, text: str) -> Turn:
        return self.bot.respond(self.state, text, NOW)


@pytest.fixture
def chat(intent_model: IntentModel, faq_index: FaqIndex) -> Chat:
    return Chat(intent_model, faq_index)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("where is my order", "order_status"),
        ("我要退货", "return_request"),
        ("cancel my order", "cancel_order"),
        ("转人工", "human_agent"),
        ("hello", "greeting"),
        ("优惠券用不了", "coupon_promo"),
    ],
)
def test_intents_of_plain_messages(intent_model: IntentModel, text: str, intent: str) -> None:
    assert intent_model.predict(text).intent == intent


def test_language_follows_the_script() -> None:
    assert language_of("我的 package 在哪") == "zh"
    assert language_of("status of my 订单 please") == "en"


def test_slot_extraction_and_validation() -> None:
    assert order_id_in("订单a1001到哪了") == "A1001"
    assert order_id_in("nothing here 12345") is None
    assert contact_in("it is Bob@Example.com") == "bob@example.com"
    assert contact_in("电话 138-0013-8002") == "13800138002"
    assert contact_in("call 12") is None
    assert address_in("please change the address to 12 King Street", asked=False) == "12 King Street"
    assert address_in("somewhere", asked=True) is None  # no house number, too few Chinese characters
    assert address_in("上海市浦东新区世纪大道100号", asked=True) is not None
    order = MemoryOrders().orders["A1002"]
    assert contact_matches(order, "bob@example.com") and contact_matches(order, "13800138002")
    assert not contact_matches(order, "alice@example.com")


def test_rules_say_why() -> None:
    orders = MemoryOrders().orders
    assert may_cancel(orders["A1001"]).allowed
    shipped = may_cancel(orders["A1003"])
    assert not shipped.allowed and shipped.rule == "shipped_cannot_cancel" and "shipped" in shipped.why["en"]
    assert may_change_address(orders["A1002"]).allowed
    assert not may_change_address(orders["A1007"]).allowed


def test_a_form_asks_one_question_at_a_time_and_validates(chat: Chat) -> None:
    assert chat.say("where is my order?").notes == ["ask:order_id"]
    wrong = chat.say("A9999")
    assert wrong.notes == ["ask:order_id"] and "A9999" in wrong.reply
    assert chat.say("A1003").notes == ["ask:contact"]
    mismatch = chat.say("bob@example.com")
    assert mismatch.notes == ["ask:contact"] and "match" in mismatch.reply
    answer = chat.say("alice@example.com")
    assert answer.intent == "order_status" and "shipped" in answer.reply
    assert chat.state.verified_order == "A1003"


def test_context_carries_over_and_rules_refuse_a_shipped_cancel(chat: Chat) -> None:
    chat.say("where is order A1003")
    chat.say("alice@example.com")
    follow_up = chat.say("and when will it arrive?")
    assert "A1003" in follow_up.reply and "2026-12-06" in follow_up.reply
    refused = chat.say("cancel it")
    assert refused.notes == ["rule:shipped_cannot_cancel"]
    assert chat.orders.orders["A1003"].status == "shipped"


def test_cancel_before_dispatch_in_chinese(chat: Chat) -> None:
    assert chat.say("帮我取消订单A1002").notes == ["ask:contact"]
    done = chat.say("13800138002")
    assert done.notes == ["rule:cancel_before_dispatch"] and "已为您取消" in done.reply
    assert chat.orders.orders["A1002"].status == "cancelled"


def test_a_change_of_topic_leaves_the_form(chat: Chat) -> None:
    chat.say("I want to change my delivery address for order A1001")
    assert chat.state.pending_slot == "contact"
    other = chat.say("do you have any discount codes?")
    assert other.intent == "coupon_promo" and chat.state.form is None


def test_hand_off_on_request_emotion_and_two_fallbacks(intent_model: IntentModel, faq_index: FaqIndex) -> None:
    asked = Chat(intent_model, faq_index)
    turn = asked.say("I want to talk to a human")
    assert turn.handoff and turn.ticket is not None and turn.ticket.reason == "request"
    silent = asked.say("hello?")
    assert silent.reply == "" and silent.handoff  # a person owns it now: the bot is silent

    angry = Chat(intent_model, faq_index)
    turn = angry.say("This is unacceptable, I'm furious, you are useless!!")
    assert turn.emotion > emotion.HANDOFF_THRESHOLD and turn.ticket is not None and turn.ticket.reason == "emotion"

    lost = Chat(intent_model, faq_index)
    assert not lost.say("what is the capital of france").handoff
    second = lost.say("who won the football game")
    assert second.handoff and second.ticket is not None and second.ticket.reason == "fallbacks"


def test_emotion_scores() -> None:
    assert emotion.score("where is my order") == 0.0
    assert emotion.score("this is not bad") == 0.0
    assert emotion.score("气死我了，太垃圾了！！") > 0.7
    assert 0.0 < emotion.score("I'm a bit disappointed") < 0.7


def test_size_from_height_and_weight(chat: Chat) -> None:
    assert "M" in chat.say("what size for 170 cm / 65 kg?").reply
    assert "L" in chat.say("身高178体重75穿多大").reply


@pytest.mark.parametrize(
    "text",
    ["", "   ", "x" * (MAX_TEXT + 1), "bad\x00bytes", "caf\ufffd"],
)
def test_bad_text_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        MessageIn.model_validate({"user_id": "u-1", "text": text})


def test_an_address_change_after_dispatch_is_refused_before_asking_for_the_address(chat: Chat) -> None:
    chat.say("change the delivery address of order A1007")
    refused = chat.say("bob@example.com")
    assert refused.notes == ["rule:address_only_before_dispatch"] and "before dispatch" in refused.reply
    assert chat.state.form is None and "new_address" not in chat.state.slots


class MemoryGraph:
    """`ProductGraph` over the demo catalogue and relations, in memory."""

    def __init__(self) -> None:
        items, edges = demo_catalogue()
        self.items = {i.item_id: i for i in items}
        self.adjacent: dict[str, list[Edge]] = {}
        for e in edges:
            self.adjacent.setdefault(e.source, []).append(e)
            self.adjacent.setdefault(e.target, []).append(Edge(e.target, f"~{e.relation}", e.source))

    def edges(self, item_id: str) -> list[Edge]:
        return self.adjacent.get(item_id, [])

    def aliases(self) -> dict[str, str]:
        return {
            alias: i.item_id
            for i in self.items.values()
            for alias in str(i.attributes.get("aliases", "")).split("|")
            if alias
        }

    def titles(self, item_ids: list[str]) -> dict[str, str]:
        return {i: self.items[i].title for i in item_ids if i in self.items}

    def attributes(self, item_id: str) -> dict[str, str | float | bool]:
        return dict(self.items[item_id].attributes)


def test_product_questions_are_answered_with_the_relation_path() -> None:
    graph = MemoryGraph()
    assert mentioned("does this phone case fit the X200?", graph.aliases()) == ["kg-case-x200", "kg-phone-x200"]
    fits = answer_product(graph, "does this case fit the X200?", "en")
    assert fits is not None and fits.startswith("Yes") and "kg-case-x200 -accessory_of-> kg-phone-x200" in fits
    related = answer_product(graph, "这个充电器能给X300用吗", "zh")
    assert (
        related is not None
        and "kg-charger-30w -compatible_with-> kg-phone-x200 -~substitute_for-> kg-phone-x300" in related
    )
    assert answer_product(graph, "case for the X100?", "en") is not None  # two hops: case, X200, X100
    assert path_between(graph, "kg-case-x200", "kg-jacket-rain") is None
    size = size_from_chart(graph, "what size rain jacket for 170 cm / 65 kg?", "en")
    assert size is not None and "size M" in size and "kg-jacket-rain -size_chart-> kg-chart-tops" in size


def test_the_bot_answers_product_questions_from_the_graph(intent_model: IntentModel, faq_index: FaqIndex) -> None:
    chat = Chat(intent_model, faq_index)
    chat.bot.graph = MemoryGraph()
    turn = chat.say("does this case fit the X200?")
    assert turn.intent == "product_question" and "accessory_of" in turn.reply

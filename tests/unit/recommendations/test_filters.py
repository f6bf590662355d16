"""Expression filters: what matches, and malformed expressions named in the 400."""

from __future__ import annotations

import pytest

from commerce_ai.errors import InvalidInput
from commerce_ai.recommendations.filters import ItemFacts, parse_filter

COMEDY = ItemFacts("1", "A comedy", ("Comedy", "Romance"), price=12.5, brand="Acme", attributes={"color": "red"})
DRAMA = ItemFacts("2", "A drama", ("Drama",), price=30.0, in_stock=False)
UNPRICED = ItemFacts("3", "No price", ("Comedy",))


def matching(expression: str) -> list[str]:
    predicate = parse_filter(expression)
    assert predicate is not None
    return [item.item_id for item in (COMEDY, DRAMA, UNPRICED) if predicate(item)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("category = Comedy", ["1", "3"]),
        ("category = romance", ["1"]),  # case-insensitive values; any of the item's categories
        ("category != Comedy", ["2"]),
        ("category in (Drama, Romance)", ["1", "2"]),
        ("category not in (Drama)", ["1", "3"]),
        ("price <= 20", ["1"]),  # an item without a price never matches a comparison
        ("price > 20 and category = Drama", ["2"]),
        ("in_stock = false", ["2"]),
        ('brand = "Acme"', ["1"]),
        ("color = red AND price < 100", ["1"]),
        ('title = "A comedy and more" and price < 100', []),  # `and` inside quotes is part of the value
    ],
)
def test_expressions_select_items(expression: str, expected: list[str]) -> None:
    assert matching(expression) == expected


def test_no_expression_is_no_filter() -> None:
    assert parse_filter(None) is None and parse_filter("  ") is None


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("category", "clause 1"),
        ("price <= cheap", "not a number"),
        ("category = Comedy and", "empty clause"),
        ("category in Comedy", "parenthesised list"),
        ("price ~ 3", "clause 1"),
        ("category = Comedy and price >", "clause 2"),
    ],
)
def test_a_malformed_expression_is_a_400_naming_the_problem(expression: str, named: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_filter(expression)
    assert refused.value.status_code == 400 and named in str(refused.value)

"""Competitor price messages: what is accepted, and a clear reason for what is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commerce_ai.errors import InvalidInput
from commerce_ai.pricing.observations import parse_competitor_price
from tests.support.events import sample_body

NOW = datetime(2026, 11, 28, tzinfo=UTC)
# The queue's sample message, its observation time ({{now-1h}}) taken relative to NOW.
SAMPLE = json.dumps(sample_body("pricing/CompetitorPricesFunction-CompetitorPriceObserved.json", NOW))


def test_the_sample_event_is_valid() -> None:
    observation = parse_competitor_price(SAMPLE, NOW)
    assert (observation.sku, observation.price, observation.observed_at.tzinfo) == ("oj-2-1", 2.79, UTC)


def test_offsets_are_normalised_to_utc() -> None:
    body = json.dumps({**json.loads(SAMPLE), "observed_at": "2026-11-27T12:00:00+02:00"})
    assert parse_competitor_price(body, NOW).observed_at == datetime(2026, 11, 27, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"price": 0}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": -1.5}, "price"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "EUR"}, "catalog's, USD"),  # never mixed into a USD competitor index
        ({"sku": "a/b"}, "sku"),  # a SKU is a URL path segment
        ({"sku": ""}, "sku"),
        ({"sku": "a b"}, "sku"),
        ({"observed_at": "2026-11-27T10:00:00"}, "timezone"),
        ({"observed_at": "2026-12-25T10:00:00Z"}, "future"),
        ({"competitor": None}, "competitor"),
        # stored as text, year 999 sorts after every modern date and would freeze the SKU's latest price
        ({"observed_at": "0999-11-27T10:00:00Z"}, "year must have four digits"),
    ],
)
def test_invalid_observations_say_what_is_wrong(change: dict[str, object], problem: str) -> None:
    body = json.dumps({**json.loads(SAMPLE), **change})
    with pytest.raises(InvalidInput, match=problem):
        parse_competitor_price(body, NOW)


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"sku": "a"}'])
def test_malformed_bodies_are_invalid_input(body: str) -> None:
    with pytest.raises(InvalidInput):
        parse_competitor_price(body, NOW)

"""Field types for API bodies: one wire format per kind of value, whatever the route (README, "API conventions").

A response model declares its fields with these types, and `JsonApi` renders every response through its
model, so the conventions hold by construction rather than by each route remembering them:

- `Timestamp`: RFC 3339 in UTC with a `Z`, to the millisecond (`format_timestamp`). Values may arrive as
  datetimes or ISO 8601 strings with a zone (stored items); naive ones are taken as UTC.
- `Money`, `Score`, `Quantity`: floats rounded to a fixed number of decimals per kind, so a score is
  never `4e-05` from one route and `4.029273986816406e-05` from another.
- Identifiers (`identifier_pattern`, `IDENTIFIER`, `Identifier`): what a request stores as an id is later
  a URL path segment (`GET /catalog/items/{item_id}`, `DELETE /users/{user_id}`, ...), so every id field
  and path parameter takes only what a path segment carries as it is: letters, digits and `. _ : @ + = -`,
  starting with a letter or digit, at most 128 characters. No `/`, `?`, `#`, `%`, whitespace or control
  character can be stored and then never addressed again; a bad one is a 400 naming its field. Each kind
  of id narrows that alphabet (a SKU takes no `@`, a model name is lowercase), never widens it.
- `StorableFloat`: a float that DynamoDB's number type can hold, checked where the request is read, so a
  value like `1e-200` is a 400 that names its field instead of a write that fails (a 500) after the request
  was accepted. (Not folded into `Money` and `Quantity`: a validator inside an optional field's type stops
  pydantic from writing its `ge`/`le` bounds into the OpenAPI document as `minimum`/`maximum`.) For such
  fields, `storable_fields("price", "cost")` in the model's body checks them after their type, as a field
  validator that leaves the document's bounds in place.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator

from commerce_ai.clock import format_timestamp, four_digit_year

MONEY_DECIMALS = 4  # prices move in whole cents; costs and per-unit figures keep a little more
# Every Money field is in this one currency (pricing's catalog, risk's totals); other currencies are
# converted before they are added up, or refused.
SHOP_CURRENCY = "USD"
SCORE_DECIMALS = 6  # probabilities and model scores
QUANTITY_DECIMALS = 2  # expected units, inventory
# The widest id alphabet: unreserved and sub-delimiter characters that RFC 3986 lets a path segment carry
# unencoded, and that S3 keys and DynamoDB keys hold as they are.
ID_PUNCTUATION = "._:@+=-"
MAX_ID_LENGTH = 128
# DynamoDB's number type: zero, or a magnitude from 1e-130 to 9.9999...e125 (38 significant digits).
DYNAMODB_SMALLEST, DYNAMODB_LARGEST = 1e-130, 9.9999e125


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None or moment.utcoffset() is None else moment


def parse_rfc3339(value: Any) -> Any:
    """A JSON string as a datetime, so request models read strictly (`parse_body`) still take times:
    strict mode takes only datetime objects, and JSON has none."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError("must be an RFC 3339 time, e.g. 2026-12-05T10:00:00Z") from exc
    return value


def identifier_pattern(
    punctuation: str = ID_PUNCTUATION, max_length: int = MAX_ID_LENGTH, lowercase: bool = False
) -> str:
    """The regular expression of one kind of id: a letter or digit, then letters, digits and `punctuation`
    (a subset of ID_PUNCTUATION), `max_length` characters at most (up to MAX_ID_LENGTH)."""
    if not set(punctuation) <= set(ID_PUNCTUATION) or not 1 <= max_length <= MAX_ID_LENGTH:
        raise ValueError(f"an id takes only {ID_PUNCTUATION!r} besides letters and digits, {MAX_ID_LENGTH} at most")
    letters = "a-z0-9" if lowercase else "A-Za-z0-9"
    # none of ID_PUNCTUATION needs escaping inside a character class once `-` comes last
    marks = "".join(c for c in punctuation if c != "-") + ("-" if "-" in punctuation else "")
    return rf"^[{letters}][{letters}{marks}]{{0,{max_length - 1}}}$"


IDENTIFIER = identifier_pattern()


def _storable(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if value != 0 and not DYNAMODB_SMALLEST <= abs(value) <= DYNAMODB_LARGEST:
        raise ValueError(f"must be 0 or of magnitude {DYNAMODB_SMALLEST:g} to {DYNAMODB_LARGEST:g}")
    return value


def _storable_or_none(cls: Any, value: Any) -> Any:
    return _storable(value) if isinstance(value, float) else value


def storable_fields(*names: str) -> Any:
    """A field validator for a model's body: the named float fields (optional ones too) must be numbers
    DynamoDB can store, without touching the `minimum`/`maximum` their `Field` bounds put in the OpenAPI
    document. Usage: `_storable = storable_fields("price", "cost")`."""
    return field_validator(*names)(_storable_or_none)


def _rounder(decimals: int) -> Any:
    def rounded(value: float) -> float:
        return round(float(value), decimals)

    return rounded


TIMESTAMP_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
    "examples": ["2026-12-05T10:00:00.000Z"],
}

Timestamp = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
    WithJsonSchema(TIMESTAMP_SCHEMA, mode="serialization"),
]
# A time in a request body: RFC 3339 text with a four-digit year; the model's own validators decide
# whether it needs a zone.
RequestTime = Annotated[datetime, BeforeValidator(parse_rfc3339), AfterValidator(four_digit_year)]
StorableFloat = Annotated[float, AfterValidator(_storable)]
Money = Annotated[float, PlainSerializer(_rounder(MONEY_DECIMALS), return_type=float)]
Score = Annotated[float, PlainSerializer(_rounder(SCORE_DECIMALS), return_type=float)]
Quantity = Annotated[float, PlainSerializer(_rounder(QUANTITY_DECIMALS), return_type=float)]
Count = Annotated[int, Field(ge=0)]
Identifier = Annotated[str, Field(pattern=IDENTIFIER)]

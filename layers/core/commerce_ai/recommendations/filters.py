"""Item filters, like Amazon Personalize's: the default exclusions and per-request expressions on item fields.

Default (always): items the user bought or rated, items in their cart, items they said they are not
interested in, and items the catalogue says are out of stock.

Expression (`?filter=`, at most 512 characters): clauses joined by `and`, each `field op value`:

    category = Comedy and price <= 20
    category in (Comedy, Drama) and in_stock = true
    category != Horror and price > 5 and brand = Acme

- fields: `category` (an item matches `=` if any of its categories is the value), `price`, `in_stock`,
  `brand`, `title`, or any attribute of the catalogue item (`color = red`);
- operators: `=`, `!=`, `in (a, b)`, `not in (a, b)`; and `<`, `<=`, `>`, `>=` for numbers;
- values: bare words or double-quoted strings; `true`/`false`; numbers for the comparisons.
An item without the field does not match (except `!=` and `not in`). A malformed expression is a 400 that
names the clause and the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from commerce_ai.errors import InvalidInput

MAX_FILTER_CHARS = 512
_CLAUSE = re.compile(
    r"^(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>not\s+in\b|in\b|<=|>=|!=|=|<|>)\s*(?P<value>.*)$", re.I
)
# `and` between clauses, outside double quotes (a quoted value may hold "Pride and Prejudice")
_AND = re.compile(r'\s+and\b\s*(?=(?:[^"]*"[^"]*")*[^"]*$)', re.I)
NUMERIC_OPS = ("<", "<=", ">", ">=")
Scalar = str | float | bool


@dataclass(frozen=True)
class ItemFacts:
    """What filters, reasons and diversity need to know of an item (from the catalogue, else the model)."""

    item_id: str
    title: str
    categories: tuple[str, ...] = ()
    price: float | None = None
    in_stock: bool = True
    brand: str | None = None
    attributes: dict[str, Scalar] = field(default_factory=dict)

    def field_values(self, name: str) -> list[Scalar]:
        if name == "category":
            return list(self.categories)
        if name == "price":
            return [] if self.price is None else [self.price]
        if name == "in_stock":
            return [self.in_stock]
        if name in ("brand", "title"):
            value = getattr(self, name)
            return [] if value is None else [value]
        found = self.attributes.get(name)
        return [] if found is None else [found]


Predicate = Callable[[ItemFacts], bool]


def _problem(number: int, clause: str, problem: str) -> InvalidInput:
    return InvalidInput(f"filter clause {number} ({clause!r}): {problem}")


def _scalar(text: str) -> Scalar:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return float(text)
    except ValueError:
        return text


def _equal(value: Scalar, wanted: Scalar) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    if isinstance(value, float) or isinstance(wanted, float):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return str(value).lower() == str(wanted).lower()


def _clause(number: int, clause: str) -> Predicate:
    match = _CLAUSE.match(clause.strip())
    if match is None:
        raise _problem(number, clause, "expected `field op value` with op one of =, !=, <, <=, >, >=, in, not in")
    name, op, raw = match["field"].lower(), " ".join(match["op"].lower().split()), match["value"].strip()
    if not raw:
        raise _problem(number, clause, "a value is missing")
    if op in ("in", "not in"):
        if not (raw.startswith("(") and raw.endswith(")")) or not raw[1:-1].strip():
            raise _problem(number, clause, f"`{op}` takes a parenthesised list, e.g. (Comedy, Drama)")
        wanted = [_scalar(part) for part in raw[1:-1].split(",") if part.strip()]
        inside = op == "in"

        def within(item: ItemFacts) -> bool:
            found = any(_equal(v, w) for v in item.field_values(name) for w in wanted)
            return found if inside else not found

        return within
    value = _scalar(raw)
    if op in NUMERIC_OPS:
        if isinstance(value, bool) or not isinstance(value, float):
            raise _problem(number, clause, f"`{op}` compares numbers; {raw!r} is not a number")
        bound = value
        compare: dict[str, Callable[[float], bool]] = {
            "<": lambda v: v < bound,
            "<=": lambda v: v <= bound,
            ">": lambda v: v > bound,
            ">=": lambda v: v >= bound,
        }

        def numeric(item: ItemFacts) -> bool:
            numbers = [v for v in item.field_values(name) if isinstance(v, float) and not isinstance(v, bool)]
            return any(compare[op](v) for v in numbers)

        return numeric
    if op == "=":
        return lambda item: any(_equal(v, value) for v in item.field_values(name))
    return lambda item: not any(_equal(v, value) for v in item.field_values(name))


def parse_filter(expression: str | None) -> Predicate | None:
    """The expression as a predicate over items (None: no expression); InvalidInput naming the problem."""
    if expression is None or not expression.strip():
        return None
    if len(expression) > MAX_FILTER_CHARS:
        raise InvalidInput(f"filter is longer than {MAX_FILTER_CHARS} characters")
    clauses = [part for part in _AND.split(expression.strip())]
    if any(not part.strip() for part in clauses):
        raise InvalidInput("filter has an empty clause (a dangling `and`?)")
    predicates = [_clause(n, part) for n, part in enumerate(clauses, start=1)]
    return lambda item: all(predicate(item) for predicate in predicates)

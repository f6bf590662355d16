"""In-memory stand-ins for the few AWS operations the code uses, plus a controllable clock.

They implement only what the project calls, with the same request/response shapes as boto3, and fail
loudly on anything else so a new call shows up as a test failure rather than as silent success.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import operator
import os
import re
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError


def client_error(code: str, operation: str = "Operation", message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, operation)


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Paginator:
    def __init__(self, pages: Any) -> None:
        self._pages = pages

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return iter(self._pages(**kwargs))


# ------------------------------------------------------------------------------------------ DynamoDB

UNIT_PSEUDONYM_KEY = "unit-risk-pseudonym-key"  # the risk graph's key in unit tests (model_build.risk.pseudonym_key)
KEY_SCHEMAS = {"registry-table": ("model", "version"), "health-table": ("function",)}
PAGE_ITEMS = 3  # a Scan or Query without Limit stops after this many items, as DynamoDB stops at 1 MB
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25

_TOKEN = re.compile(r"\s*(?:(?P<op><>|<=|>=|=|<|>|\(|\)|,|\.)|(?P<word>[#:]?[A-Za-z_][A-Za-z0-9_]*))")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "begins_with": 2, "contains": 2}
_SETS = {"SS", "NS"}
_Node = tuple[Any, ...]


def validation_error(message: str, operation: str = "Operation") -> ClientError:
    return client_error("ValidationException", operation, message)


@cache
def _reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words (from moto's copy of the published list): unaliased, they are refused."""
    spec = importlib.util.find_spec("moto")
    assert spec is not None and spec.origin is not None, "moto (a dev dependency) holds DynamoDB's reserved words"
    listing = Path(spec.origin).parent / "dynamodb" / "parsing" / "reserved_keywords.txt"
    return frozenset(listing.read_text().upper().split())


class _Parser:
    """DynamoDB expressions as the project writes them: comparisons (= < <= > >=), AND/OR/NOT, parentheses,
    attribute_exists/attribute_not_exists/begins_with, and updates of `SET path = :v`, `ADD name :n` and
    `REMOVE path` (a path is an attribute or one map entry). Anything else (BETWEEN, IN, <>, functions in
    SET, arithmetic) raises NotImplementedError: teach it here before relying on it.
    Placeholders resolve through the request's names and values; each one used is noted in `used`."""

    def __init__(self, text: str, names: dict[str, str], values: dict[str, Any], used: set[str]) -> None:
        self.text, self.names, self.values, self.used = text, names, values, used
        self.tokens: list[str] = []
        position, end = 0, len(text.rstrip())
        while position < end:
            match = _TOKEN.match(text, position)
            if match is None:
                raise NotImplementedError(f"the fake cannot parse {text[position:]!r} in {text!r}")
            self.tokens.append(match.group("op") or match.group("word"))
            position = match.end()
        self.at = 0

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token.upper() != expected):
            raise validation_error(f"Invalid expression: syntax error near {token!r} in {self.text!r}")
        self.at += 1
        return token

    def _keyword(self, word: str) -> bool:
        if (self._peek() or "").upper() == word:
            self.at += 1
            return True
        return False

    def _end(self) -> None:
        if self.at != len(self.tokens):
            raise NotImplementedError(f"the fake does not understand {self.tokens[self.at :]} in {self.text!r}")

    def condition(self) -> _Node:
        node = self._and()
        while self._keyword("OR"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._keyword("AND"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> _Node:
        return ("not", self._not()) if self._keyword("NOT") else self._primary()

    def _primary(self) -> _Node:
        token = self._peek()
        if token == "(":
            self._take()
            node = self.condition()
            self._take(")")
            return node
        if token in _FUNCTIONS and self.at + 1 < len(self.tokens) and self.tokens[self.at + 1] == "(":
            self.at += 2
            arguments = [self.operand()]
            while self._peek() == ",":
                self._take()
                arguments.append(self.operand())
            self._take(")")
            if len(arguments) != _FUNCTIONS[token] or arguments[0][0] != "path":
                raise validation_error(f"Invalid function call {token} in {self.text!r}")
            return ("call", token, *arguments)
        left = self.operand()
        comparator = self._take()
        if comparator not in _COMPARE:
            raise NotImplementedError(f"the fake does not evaluate {comparator!r} in {self.text!r}")
        return ("compare", comparator, left, self.operand())

    def operand(self) -> _Node:
        token = self._take()
        if token.startswith(":"):
            if token not in self.values:
                raise validation_error(f"An expression attribute value used in expression is not defined: {token}")
            self.used.add(token)
            return ("value", self.values[token])
        if token.startswith("#"):
            if token not in self.names:
                raise validation_error(
                    f"An expression attribute name used in the document path is not defined: {token}"
                )
            self.used.add(token)
            return ("path", self.names[token])
        if not (token[0].isalpha() or token[0] == "_"):
            raise validation_error(f"Invalid expression: syntax error near {token!r} in {self.text!r}")
        if token.upper() in _reserved_words():
            raise validation_error(f"Attribute name is a reserved keyword; reserved keyword: {token}")
        return ("path", token)

    def _path(self) -> list[str]:
        first = self.operand()
        if first[0] != "path":
            raise validation_error(f"Invalid UpdateExpression: {self.text!r}")
        parts = [first[1]]
        while self._peek() == ".":
            self._take()
            part = self.operand()
            if part[0] != "path":
                raise validation_error(f"Invalid document path in {self.text!r}")
            parts.append(part[1])
        return parts

    def update_actions(self) -> list[tuple[str, list[str], _Node | None]]:
        """`SET path = :v, ...`, `ADD name :n, ...` (a number, or members into a set), `DELETE name :set, ...`
        and `REMOVE path, ...` clauses, in any order; a path is an attribute or a map entry (`#map.#key`)."""
        actions: list[tuple[str, list[str], _Node | None]] = []
        seen_clauses: set[str] = set()
        while self._peek() is not None:
            clause = self._take().upper()
            if clause not in ("SET", "ADD", "REMOVE", "DELETE") or clause in seen_clauses:
                raise NotImplementedError(f"the fake does not apply {clause!r} in {self.text!r}")
            seen_clauses.add(clause)
            while True:
                path = self._path()
                if clause == "SET":
                    self._take("=")
                    actions.append((clause, path, self.operand()))
                elif clause in ("ADD", "DELETE"):
                    if len(path) > 1:
                        raise validation_error(f"{clause} can only be used on top-level attributes")
                    actions.append((clause, path, self.operand()))
                else:
                    actions.append((clause, path, None))
                if self._peek() != ",":
                    break
                self._take()
        if not actions:
            raise validation_error(f"Invalid UpdateExpression: {self.text!r}")
        paths = [tuple(p) for _, p, _ in actions]
        for i, one in enumerate(paths):
            for other in paths[i + 1 :]:
                shorter = min(len(one), len(other))
                if one[:shorter] == other[:shorter]:
                    raise validation_error(f"Invalid UpdateExpression: Two document paths overlap in {self.text!r}")
        return actions


def _scalar(value: dict[str, Any] | None) -> tuple[str, Any] | None:
    if value is None:
        return None
    ((kind, raw),) = value.items()
    if kind == "N":
        return kind, Decimal(raw)
    return kind, raw


def _member(kind: str, value: str) -> Any:
    """A set member as DynamoDB compares it (numbers by value: "1" and "1.0" are one member)."""
    return Decimal(value) if kind == "NS" else value


def _resolve(node: _Node, item: dict[str, Any]) -> dict[str, Any] | None:
    return node[1] if node[0] == "value" else item.get(node[1])


def _holds(node: _Node, item: dict[str, Any]) -> bool:
    kind = node[0]
    if kind == "or":
        return _holds(node[1], item) or _holds(node[2], item)
    if kind == "and":
        return _holds(node[1], item) and _holds(node[2], item)
    if kind == "not":
        return not _holds(node[1], item)
    if kind == "call":
        name, path = node[1], node[2]
        if name == "attribute_exists":
            return path[1] in item
        if name == "attribute_not_exists":
            return path[1] not in item
        if name == "contains":  # a set holding the value (DynamoDB also answers it for strings and lists)
            held, wanted = _resolve(path, item), _resolve(node[3], item)
            if held is None or wanted is None or set(held) & _SETS != set(held):
                return False
            ((kind, members),) = held.items()
            ((wanted_kind, value),) = wanted.items()
            return wanted_kind == kind[0] and _member(kind, value) in {_member(kind, m) for m in members}
        whole, prefix = _scalar(_resolve(path, item)), _scalar(_resolve(node[3], item))
        return (
            whole is not None and prefix is not None and whole[0] == prefix[0] == "S" and whole[1].startswith(prefix[1])
        )
    left, right = _scalar(_resolve(node[2], item)), _scalar(_resolve(node[3], item))
    if left is None or right is None or left[0] != right[0]:  # a missing attribute or another type: false
        return False
    if left[0] not in ("S", "N", "B") and node[1] != "=":
        return False
    return _COMPARE[node[1]](left[1], right[1])


def _conjuncts(node: _Node) -> list[_Node]:
    return [*_conjuncts(node[1]), *_conjuncts(node[2])] if node[0] == "and" else [node]


def _key_condition(node: _Node, schema: tuple[str, ...]) -> bool:
    """Whether `node` is a valid KeyConditionExpression: `hash = :v`, optionally AND one condition on the
    range key (a comparison with a value, or begins_with)."""
    attributes = []
    for part in _conjuncts(node):
        if part[0] == "compare" and part[2][0] == "path" and part[3][0] == "value":
            attributes.append((part[2][1], part[1]))
        elif part[0] == "call" and part[1] == "begins_with" and part[3][0] == "value":
            attributes.append((part[2][1], "begins_with"))
        else:
            return False
    hash_key, range_key = schema[0], schema[1] if len(schema) > 1 else None
    others = [(name, how) for name, how in attributes if name != hash_key or how != "="]
    return len(attributes) - len(others) == 1 and all(name == range_key for name, _ in others) and len(others) <= 1


def _hash_key_value(node: _Node, hash_key: str) -> dict[str, Any]:
    """{hash_key: value} of a key condition's `hash = :v` part (empty when it has none)."""
    for part in _conjuncts(node):
        if part[0] == "compare" and part[1] == "=" and part[2] == ("path", hash_key) and part[3][0] == "value":
            return {hash_key: part[3][1]}
    return {}


class FakeDynamoDB:
    """The DynamoDB calls the project makes, over in-memory tables keyed as `key_schemas` says (hash key
    first, then the range key; key attributes are strings): put_item, update_item, delete_item, get_item, query, scan
    (with Segment/TotalSegments), batch_get_item, batch_write_item, transact_write_items (Put and Update)
    and the query/scan paginators.

    Condition, key-condition and update expressions are parsed and evaluated against the stored item (see
    `_Parser` for the forms understood), not matched as strings. As in DynamoDB, a refused condition is a
    ConditionalCheckFailedException, and an unaliased reserved word, an undefined or unused placeholder, a
    key attribute in SET, an oversized batch or a duplicate key in one batch is a ValidationException.
    A Scan or Query without Limit stops every PAGE_ITEMS items, and `throttle_batches` makes that many next
    batch calls leave their second half (a lone request: all of it) unprocessed, so callers that do not
    page or retry lose items. LastEvaluatedKey comes only while items remain (DynamoDB may also send one
    before an empty last page; callers that loop until it is absent handle both).
    """

    def __init__(
        self,
        key_schemas: dict[str, tuple[str, ...]] | None = None,
        index_schemas: dict[tuple[str, str], tuple[str, ...]] | None = None,
    ) -> None:
        self.key_schemas = dict(KEY_SCHEMAS if key_schemas is None else key_schemas)
        # (table, index name) -> the index's key names: a Query with IndexName reads the items holding them
        self.index_schemas = dict(index_schemas or {})
        self.tables: dict[str, dict[tuple[str, ...], dict[str, Any]]] = defaultdict(dict)
        self.puts: list[dict[str, Any]] = []  # every PutItem that was applied
        self.fail_with: Exception | None = None
        self.throttle_batches = 0
        self.log: list[tuple[str, dict[str, Any]]] = []  # (operation, parameters) of every call
        self._lock = threading.RLock()  # the code under test calls from thread pools

    # -- helpers ------------------------------------------------------------------------------------

    def _call(self, operation: str, table: str, index: str | None = None, key: dict[str, Any] | None = None) -> None:
        params: dict[str, Any] = {"TableName": table, **({"IndexName": index} if index else {})}
        hash_key = self.key_schemas.get(table, (None,))[0]
        leading = (key or {}).get(hash_key) if hash_key else None
        if isinstance(leading, dict) and "S" in leading:  # IAM's dynamodb:LeadingKeys (tests/unit/iam.py)
            params["LeadingKey"] = leading["S"]
        self.log.append((operation, params))
        if self.fail_with is not None:
            raise self.fail_with
        if table not in self.key_schemas:
            raise client_error("ResourceNotFoundException", operation, f"no table {table}")

    def _key(self, table: str, item: dict[str, Any]) -> tuple[str, ...]:
        if table not in self.key_schemas:
            raise client_error("ResourceNotFoundException", message=f"no table {table}")
        names = self.key_schemas[table]
        if not all(isinstance(item.get(n), dict) and set(item[n]) == {"S"} for n in names):
            raise validation_error(f"The provided key element does not match the schema {names}")
        return tuple(item[name]["S"] for name in names)

    def _key_only(self, table: str, key: dict[str, Any]) -> tuple[str, ...]:
        if set(key) != set(self.key_schemas.get(table, set(key))):
            raise validation_error("The provided key element does not match the schema")
        return self._key(table, key)

    def _key_item(self, table: str, key: tuple[str, ...]) -> dict[str, Any]:
        return {name: {"S": value} for name, value in zip(self.key_schemas[table], key, strict=True)}

    @staticmethod
    def _all_used(names: dict[str, str] | None, values: dict[str, Any] | None, used: set[str]) -> None:
        unused = sorted((set(names or {}) | set(values or {})) - used)
        if unused:
            raise validation_error(f"Value provided in ExpressionAttributeNames/Values unused in expressions: {unused}")

    def _condition(
        self, expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None, used: set[str]
    ) -> _Node | None:
        if expression is None:
            return None
        parser = _Parser(expression, names or {}, values or {}, used)
        node = parser.condition()
        parser._end()
        return node

    # -- single items -------------------------------------------------------------------------------

    def put_item(
        self,
        TableName: str,
        Item: dict[str, Any],
        ConditionExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            self._call("PutItem", TableName, key=Item)
            key = self._key(TableName, Item)
            used: set[str] = set()
            condition = self._condition(ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues, used)
            self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
            if condition is not None and not _holds(condition, self.tables[TableName].get(key) or {}):
                raise client_error("ConditionalCheckFailedException", "PutItem")
            self.tables[TableName][key] = copy.deepcopy(Item)
            self.puts.append({"TableName": TableName, "Item": copy.deepcopy(Item)})
            return {}

    def update_item(
        self,
        TableName: str,
        Key: dict[str, Any],
        UpdateExpression: str,
        ConditionExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            self._call("UpdateItem", TableName, key=Key)
            key = self._key_only(TableName, Key)
            used: set[str] = set()
            names, values = ExpressionAttributeNames or {}, ExpressionAttributeValues or {}
            actions = _Parser(UpdateExpression, names, values, used).update_actions()
            condition = self._condition(ConditionExpression, names, values, used)
            self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
            for _, path, _ in actions:
                if path[0] in self.key_schemas[TableName]:
                    raise validation_error(f"Cannot update attribute {path[0]}. This attribute is part of the key")
            existing = self.tables[TableName].get(key)
            if condition is not None and not _holds(condition, existing or {}):
                raise client_error("ConditionalCheckFailedException", "UpdateItem")
            updated = copy.deepcopy(existing) if existing is not None else copy.deepcopy(Key)
            for action, path, source in actions:
                value = _resolve(source, existing or {}) if source is not None else None
                if action != "REMOVE" and value is None:
                    raise validation_error("The provided expression refers to an attribute that does not exist")
                parent, name = updated, path[-1]
                if len(path) == 2:
                    holder = updated.get(path[0])
                    if action == "REMOVE" and holder is None:
                        continue
                    if holder is None or set(holder) != {"M"}:
                        raise validation_error("The document path provided in the update expression is invalid")
                    parent = holder["M"]
                elif len(path) > 2:
                    raise NotImplementedError(f"the fake does not update paths deeper than a map entry: {path}")
                if action == "SET":
                    parent[name] = copy.deepcopy(value)
                elif action == "REMOVE":
                    parent.pop(name, None)
                elif set(value or {}) & _SETS:  # ADD members into a set, or DELETE them from it
                    assert value is not None
                    ((kind, members),) = value.items()
                    current = parent.get(name)
                    if current is not None and set(current) != {kind}:
                        raise validation_error("An operand in the update expression has an incorrect data type")
                    held = {_member(kind, m): m for m in (current or {}).get(kind, [])}
                    for member in members:
                        if action == "ADD":
                            held.setdefault(_member(kind, member), member)
                        else:
                            held.pop(_member(kind, member), None)
                    if held:
                        parent[name] = {kind: list(held.values())}
                    else:
                        parent.pop(name, None)  # DynamoDB keeps no empty set
                elif action == "DELETE":
                    raise validation_error("DELETE takes a set")
                else:
                    assert value is not None
                    current = parent.get(name)
                    if set(value) != {"N"} or (current is not None and set(current) != {"N"}):
                        raise validation_error("An operand in the update expression has an incorrect data type")
                    total = Decimal(value["N"]) + (Decimal(current["N"]) if current else 0)
                    parent[name] = {"N": str(total)}
            self.tables[TableName][key] = updated
            return {}

    def delete_item(
        self,
        TableName: str,
        Key: dict[str, Any],
        ReturnValues: str = "NONE",
        ConditionExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            self._call("DeleteItem", TableName, key=Key)
            key = self._key_only(TableName, Key)
            used: set[str] = set()
            condition = self._condition(ConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues, used)
            self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
            if condition is not None and not _holds(condition, self.tables[TableName].get(key) or {}):
                raise client_error("ConditionalCheckFailedException", "DeleteItem")
            old = self.tables[TableName].pop(key, None)
            return {"Attributes": old} if ReturnValues == "ALL_OLD" and old is not None else {}

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:
        with self._lock:
            self._call("GetItem", TableName, key=Key)
            item = self.tables[TableName].get(self._key_only(TableName, Key))
            return {"Item": copy.deepcopy(item)} if item is not None else {}

    def transact_write_items(
        self, TransactItems: list[dict[str, Any]], ClientRequestToken: str | None = None
    ) -> dict[str, Any]:
        """Put and Update actions, all or none: each is applied (and logged) as its own PutItem/UpdateItem,
        as IAM authorises them; if any condition fails, every table is restored and the call fails with
        TransactionCanceledException and one CancellationReason per action, as DynamoDB does."""
        with self._lock:
            if not 1 <= len(TransactItems) <= 100:
                raise validation_error("TransactItems must hold 1..100 actions", "TransactWriteItems")
            saved, saved_puts = copy.deepcopy(self.tables), len(self.puts)
            targets: set[tuple[str, tuple[str, ...]]] = set()
            reasons: list[dict[str, str]] = []
            for action in TransactItems:
                ((kind, request),) = action.items()
                if kind not in ("Put", "Update"):
                    raise NotImplementedError(f"the fake does not apply {kind} in a transaction")
                table = request["TableName"]
                target = (table, self._key(table, request["Item"] if kind == "Put" else request["Key"]))
                if target in targets:
                    self.tables, self.puts[saved_puts:] = saved, []
                    raise validation_error("Transaction request cannot include multiple operations on one item")
                targets.add(target)
                try:
                    (self.put_item if kind == "Put" else self.update_item)(**request)
                    reasons.append({"Code": "None"})
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        self.tables, self.puts[saved_puts:] = saved, []
                        raise
                    reasons.append({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"})
            if any(r["Code"] != "None" for r in reasons):
                self.tables, self.puts[saved_puts:] = saved, []
                error = client_error("TransactionCanceledException", "TransactWriteItems", "Transaction cancelled")
                error.response["CancellationReasons"] = reasons
                raise error
            return {}

    # -- many items ---------------------------------------------------------------------------------

    def _page(
        self,
        table: str,
        ordered: list[tuple[tuple[str, ...], dict[str, Any]]],
        limit: int | None,
        start: dict[str, Any] | None,
        forward: bool = True,
    ) -> dict[str, Any]:
        if limit is not None and limit < 1:
            raise validation_error("Limit must be at least 1")
        if start is not None:
            after = self._key_only(table, start)
            ordered = [(k, i) for k, i in ordered if (k > after if forward else k < after)]
        page = ordered[: limit or PAGE_ITEMS]
        response: dict[str, Any] = {"Items": [copy.deepcopy(i) for _, i in page], "Count": len(page)}
        if len(ordered) > len(page):
            response["LastEvaluatedKey"] = self._key_item(table, page[-1][0])
        return response

    def query(
        self,
        TableName: str,
        KeyConditionExpression: str,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
        ScanIndexForward: bool = True,
        Limit: int | None = None,
        ExclusiveStartKey: dict[str, Any] | None = None,
        ConsistentRead: bool = False,
        IndexName: str | None = None,
    ) -> dict[str, Any]:
        """Items of one partition in range-key order (reversed with ScanIndexForward=False), paged; with
        IndexName, of a global secondary index (only items holding its keys; no consistent reads)."""
        if IndexName is not None:
            return self._query_index(
                TableName, IndexName, KeyConditionExpression, ExpressionAttributeValues, ConsistentRead, Limit
            )
        with self._lock:
            used: set[str] = set()
            condition = self._condition(
                KeyConditionExpression, ExpressionAttributeNames, ExpressionAttributeValues, used
            )
            assert condition is not None
            self._call("Query", TableName, key=_hash_key_value(condition, self.key_schemas.get(TableName, ("",))[0]))
            self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
            if not _key_condition(condition, self.key_schemas[TableName]):
                raise validation_error(f"Query key condition not supported: {KeyConditionExpression!r}")
            ordered = sorted(self.tables[TableName].items(), reverse=not ScanIndexForward)
            matching = [(k, i) for k, i in ordered if _holds(condition, i)]
            return self._page(TableName, matching, Limit, ExclusiveStartKey, forward=ScanIndexForward)

    def _query_index(
        self,
        table: str,
        index: str,
        condition_text: str,
        values: dict[str, Any] | None,
        consistent: bool,
        limit: int | None,
    ) -> dict[str, Any]:
        """A global secondary index's partition, all in one page (what the project's index queries read)."""
        with self._lock:
            self._call("Query", table, index)
            if (table, index) not in self.index_schemas:
                raise validation_error(f"The table does not have the specified index: {index}")
            if consistent:
                raise validation_error("Consistent reads are not supported on global secondary indexes")
            schema = self.index_schemas[(table, index)]
            used: set[str] = set()
            condition = self._condition(condition_text, None, values, used)
            assert condition is not None
            self._all_used(None, values, used)
            if not _key_condition(condition, schema):
                raise validation_error(f"Query key condition not supported: {condition_text!r}")
            holding = [i for _, i in sorted(self.tables[table].items()) if all(n in i for n in schema)]
            items = [copy.deepcopy(i) for i in holding if _holds(condition, i)][: limit or None]
            return {"Items": items, "Count": len(items)}

    def scan(
        self,
        TableName: str,
        Limit: int | None = None,
        ExclusiveStartKey: dict[str, Any] | None = None,
        Segment: int | None = None,
        TotalSegments: int | None = None,
        ConsistentRead: bool = False,
        FilterExpression: str | None = None,
        ExpressionAttributeNames: dict[str, str] | None = None,
        ExpressionAttributeValues: dict[str, Any] | None = None,
        ProjectionExpression: str | None = None,
        IndexName: str | None = None,
    ) -> dict[str, Any]:
        """One page in key order (of one segment, for a parallel scan), as DynamoDB pages a Scan; a
        FilterExpression drops items from the page after it is read, so a page may come back short; a
        ProjectionExpression (top-level names) keeps only those attributes. With IndexName, of a keys-only
        global secondary index: the items holding its keys, each as the table's and the index's keys."""
        if IndexName is not None:
            return self._scan_index(TableName, IndexName, Limit, ExclusiveStartKey)
        with self._lock:
            self._call("Scan", TableName)
            used: set[str] = set()
            projected: list[str] = []
            for name in (ProjectionExpression or "").split(","):
                name = name.strip()
                if name.startswith("#"):
                    used.add(name)
                    name = (ExpressionAttributeNames or {})[name]
                if name:
                    projected.append(name)
            condition = self._condition(FilterExpression, ExpressionAttributeNames, ExpressionAttributeValues, used)
            self._all_used(ExpressionAttributeNames, ExpressionAttributeValues, used)
            ordered = sorted(self.tables[TableName].items())
            if (Segment is None) != (TotalSegments is None):
                raise validation_error("Segment and TotalSegments go together")
            if Segment is not None and TotalSegments is not None:
                if not 0 <= Segment < TotalSegments <= 1_000_000:
                    raise validation_error(f"Segment {Segment} is not in 0..TotalSegments-1 ({TotalSegments})")
                ordered = [(k, i) for k, i in ordered if self.segment_of(k, TotalSegments) == Segment]
            response = self._page(TableName, ordered, Limit, ExclusiveStartKey)
            if condition is not None:
                response["Items"] = [i for i in response["Items"] if _holds(condition, i)]
                response["Count"] = len(response["Items"])
            if projected:
                response["Items"] = [{k: v for k, v in i.items() if k in projected} for i in response["Items"]]
            return response

    def _scan_index(self, table: str, index: str, limit: int | None, start: dict[str, Any] | None) -> dict[str, Any]:
        with self._lock:
            self._call("Scan", table, index)
            if (table, index) not in self.index_schemas:
                raise validation_error(f"The table does not have the specified index: {index}")
            schema = self.index_schemas[(table, index)]
            names = {*self.key_schemas[table], *schema}
            ordered = [(k, i) for k, i in sorted(self.tables[table].items()) if all(n in i for n in schema)]
            table_start = {n: v for n, v in (start or {}).items() if n in self.key_schemas[table]} or None
            response = self._page(table, ordered, limit, table_start)
            response["Items"] = [{n: v for n, v in i.items() if n in names} for i in response["Items"]]
            if "LastEvaluatedKey" in response:
                last = response["Items"][-1]
                response["LastEvaluatedKey"] = {n: last[n] for n in names}
            return response

    @staticmethod
    def segment_of(key: tuple[str, ...], total: int) -> int:
        return zlib.crc32("\x00".join(key).encode()) % total

    def _throttled(self, requests: list[Any]) -> tuple[list[Any], list[Any]]:
        if self.throttle_batches > 0:  # process the first half (rounded down), leave the rest
            self.throttle_batches -= 1
            half = len(requests) // 2
            return requests[:half], requests[half:]
        return requests, []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            wanted: list[tuple[str, tuple[str, ...]]] = []
            for table, request in RequestItems.items():
                self._call("BatchGetItem", table)
                if set(request) - {"Keys", "ConsistentRead"}:
                    raise NotImplementedError(f"the fake's batch_get_item does not take {sorted(request)}")
                keys = [self._key_only(table, k) for k in request["Keys"]]
                if not keys or len(set(keys)) != len(keys):
                    raise validation_error("Provided list of item keys contains duplicates (or is empty)")
                wanted.extend((table, k) for k in keys)
            if not 1 <= len(wanted) <= BATCH_GET_LIMIT:
                raise validation_error(f"Too many items requested for the BatchGetItem call ({len(wanted)})")
            done, left = self._throttled(wanted)
            responses: dict[str, list[dict[str, Any]]] = {table: [] for table in RequestItems}
            for table, key in done:
                item = self.tables[table].get(key)
                if item is not None:
                    responses[table].append(copy.deepcopy(item))
            unprocessed: dict[str, Any] = {}
            for table, key in left:
                entry = unprocessed.setdefault(table, {**RequestItems[table], "Keys": []})
                entry["Keys"].append(self._key_item(table, key))
            return {"Responses": responses, "UnprocessedKeys": unprocessed}

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        with self._lock:
            writes: list[tuple[str, tuple[str, ...], dict[str, Any]]] = []
            for table, requests in RequestItems.items():
                self._call("BatchWriteItem", table)
                keys = []
                for request in requests:
                    if set(request) == {"PutRequest"} and set(request["PutRequest"]) == {"Item"}:
                        keys.append(self._key(table, request["PutRequest"]["Item"]))
                    elif set(request) == {"DeleteRequest"} and set(request["DeleteRequest"]) == {"Key"}:
                        keys.append(self._key_only(table, request["DeleteRequest"]["Key"]))
                    else:
                        raise validation_error(f"not a PutRequest or DeleteRequest: {sorted(request)}")
                    writes.append((table, keys[-1], request))
                if not keys or len(set(keys)) != len(keys):
                    raise validation_error("Provided list of item keys contains duplicates (or is empty)")
            if not 1 <= len(writes) <= BATCH_WRITE_LIMIT:
                raise validation_error(f"Too many items in the BatchWriteItem call ({len(writes)})")
            done, left = self._throttled(writes)
            for table, key, request in done:
                if "PutRequest" in request:
                    self.tables[table][key] = copy.deepcopy(request["PutRequest"]["Item"])
                else:
                    self.tables[table].pop(key, None)
            unprocessed: dict[str, list[dict[str, Any]]] = {}
            for table, _, request in left:
                unprocessed.setdefault(table, []).append(copy.deepcopy(request))
            return {"UnprocessedItems": unprocessed}

    # -- paginators ---------------------------------------------------------------------------------

    def _pages(self, operation: Callable[..., dict[str, Any]], request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        request = dict(request)
        while True:
            page = operation(**request)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_paginator(self, operation: str) -> _Paginator:
        if operation in ("query", "scan"):
            method = self.query if operation == "query" else self.scan
            return _Paginator(lambda **request: self._pages(method, request))
        raise NotImplementedError(operation)  # pragma: no cover


# ------------------------------------------------------------------------------------------------ S3


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}  # user metadata (x-amz-meta-*) per object
        self.fail_with: Exception | None = None  # every call fails with this
        self.fail_on: dict[str, Exception] = {}  # calls logged as this operation fail with that
        self.log: list[tuple[str, dict[str, Any]]] = []  # (operation, parameters) of every call
        # What a read of a missing key answers: AWS says 403 to a role without an unconditioned ListBucket
        # grant (the functions' roles), 404 to one with it.
        self.missing_code = "403"

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        if self.log and self.log[-1][0] in self.fail_on:
            raise self.fail_on[self.log[-1][0]]

    def put_object(
        self, Bucket: str, Key: str, Body: bytes, Metadata: dict[str, str] | None = None, **_: Any
    ) -> dict[str, Any]:
        self.log.append(("PutObject", {"Bucket": Bucket, "Key": Key}))
        self._check()
        self.objects[(Bucket, Key)] = bytes(Body)
        self.metadata[(Bucket, Key)] = dict(Metadata or {})
        return {}

    def delete_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.log.append(("DeleteObject", {"Bucket": Bucket, "Key": Key}))
        self._check()
        self.objects.pop((Bucket, Key), None)
        self.metadata.pop((Bucket, Key), None)
        return {}

    def upload_file(self, Filename: str, Bucket: str, Key: str) -> None:
        self.log.append(("PutObject", {"Bucket": Bucket, "Key": Key}))
        self._check()
        self.objects[(Bucket, Key)] = Path(Filename).read_bytes()

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.log.append(("HeadObject", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error(self.missing_code, "HeadObject", "Not Found")
        return {"ContentLength": len(self.objects[(Bucket, Key)])}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.log.append(("GetObject", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error("NoSuchKey" if self.missing_code == "404" else "AccessDenied", "GetObject")
        data = self.objects[(Bucket, Key)]
        return {"Body": io.BytesIO(data), "ContentLength": len(data), "Metadata": self.metadata.get((Bucket, Key), {})}

    def download_file(self, Bucket: str, Key: str, Filename: str) -> None:
        self.log.append(("DownloadFile", {"Bucket": Bucket, "Key": Key, "missing": (Bucket, Key) not in self.objects}))
        self._check()
        if (Bucket, Key) not in self.objects:
            raise client_error(self.missing_code, "HeadObject", "Not Found")
        Path(Filename).write_bytes(self.objects[(Bucket, Key)])

    def _list(self, Bucket: str, Prefix: str = "") -> Iterator[dict[str, Any]]:
        self.log.append(("ListObjectsV2", {"Bucket": Bucket, "Prefix": Prefix}))
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))
        for start in range(0, max(len(keys), 1), 3):
            chunk = keys[start : start + 3]
            yield {"Contents": [{"Key": k} for k in chunk]} if chunk else {}

    def list_objects_v2(self, Bucket: str, Prefix: str = "", MaxKeys: int = 1000) -> dict[str, Any]:
        self.log.append(("ListObjectsV2", {"Bucket": Bucket, "Prefix": Prefix}))
        self._check()
        keys = sorted(k for b, k in self.objects if b == Bucket and k.startswith(Prefix))[:MaxKeys]
        return {"Contents": [{"Key": k} for k in keys]} if keys else {"KeyCount": 0}

    def get_paginator(self, operation: str) -> _Paginator:
        if operation == "list_objects_v2":
            return _Paginator(self._list)
        raise NotImplementedError(operation)  # pragma: no cover

    def put_directory(self, bucket: str, prefix: str, directory: Path) -> None:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            self.objects[(bucket, prefix + path.relative_to(directory).as_posix())] = path.read_bytes()


# ----------------------------------------------------------------------------------------------- SQS


@dataclass
class FakeSQS:
    """Hands out pre-loaded receive responses in order and records deletions and sends."""

    responses: list[list[dict[str, Any]]] = field(default_factory=list)
    receive_calls: list[dict[str, Any]] = field(default_factory=list)
    delete_calls: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self.sent.append({"QueueUrl": QueueUrl, "MessageBody": MessageBody})
        return {"MessageId": f"sent-{len(self.sent)}"}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        """Each entry is recorded as a send (IAM: SendMessageBatch is authorised by sqs:SendMessage)."""
        assert 1 <= len(Entries) <= 10, "SQS accepts 1..10 entries per SendMessageBatch"
        for entry in Entries:
            self.send_message(QueueUrl, entry["MessageBody"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.receive_calls.append(kwargs)
        messages = self.responses.pop(0) if self.responses else []
        assert len(messages) <= kwargs["MaxNumberOfMessages"] <= 10
        return {"Messages": messages} if messages else {}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        assert 1 <= len(Entries) <= 10, "SQS accepts 1..10 entries per DeleteMessageBatch"
        self.delete_calls.append({"QueueUrl": QueueUrl, "Entries": Entries})
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    @property
    def deleted_handles(self) -> list[str]:
        return [e["ReceiptHandle"] for call in self.delete_calls for e in call["Entries"]]


def sqs_message(message_id: str, body: str = "{}") -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": body,
        "MD5OfBody": "0" * 32,
        "Attributes": {"ApproximateReceiveCount": "1"},
    }


# ----------------------------------------------------------------------------------------------- SNS


@dataclass
class FakeSNS:
    """Records PublishBatch calls; `fail_ids` lists, per call in order, the entry ids SNS fails on its side."""

    published: list[dict[str, Any]] = field(default_factory=list)  # each entry taken, with its TopicArn
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_ids: list[set[str]] = field(default_factory=list)
    sender_fault: bool = False

    def publish_batch(self, TopicArn: str, PublishBatchRequestEntries: list[dict[str, Any]]) -> dict[str, Any]:
        entries = PublishBatchRequestEntries
        assert 1 <= len(entries) <= 10, "SNS accepts 1..10 entries per PublishBatch"
        assert len({e["Id"] for e in entries}) == len(entries), "PublishBatch entry ids must be unique"
        self.calls.append({"TopicArn": TopicArn, "Entries": entries})
        failing = self.fail_ids.pop(0) if self.fail_ids else set()
        taken = [e for e in entries if e["Id"] not in failing]
        self.published.extend({"TopicArn": TopicArn, **e} for e in taken)
        return {
            "Successful": [{"Id": e["Id"], "MessageId": f"msg-{len(self.published)}"} for e in taken],
            "Failed": [
                {"Id": e["Id"], "Code": "InternalError", "SenderFault": self.sender_fault}
                for e in entries
                if e["Id"] in failing
            ],
        }


@dataclass
class FakeConnections:
    """The API Gateway management API (`apigatewaymanagementapi`): PostToConnection recorded with the
    endpoint it went to (AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, as boto3 reads it); ids in `gone` answer
    GoneException, as a closed connection does."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "")
        self.posted.append({"ConnectionId": ConnectionId, "Data": Data, "Endpoint": endpoint})
        if ConnectionId in self.gone:
            raise client_error("GoneException", "PostToConnection", f"connection {ConnectionId} is gone")
        return {}

    def frames(self, connection_id: str) -> list[dict[str, Any]]:
        return [json.loads(p["Data"]) for p in self.posted if p["ConnectionId"] == connection_id]


# ----------------------------------------------------------------------------------------------- SSM


class FakeSSMProvider:
    """The slice of Powertools' SSMProvider that `commerce_ai.http.admin_key` uses."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: list[tuple[str, bool, int]] = []

    def get(self, name: str, decrypt: bool = False, max_age: int = 5) -> str:
        self.calls.append((name, decrypt, max_age))
        return self.values[name]


@dataclass
class FakeApiKeys:
    """API Gateway's API keys (the usage plans' keys the caller authorizer reads): id -> value."""

    values: dict[str, str] = field(default_factory=dict)
    read: list[str] = field(default_factory=list)  # ids of every GetApiKey

    def get_api_key(self, apiKey: str, includeValue: bool = False) -> dict[str, Any]:
        self.read.append(apiKey)
        if apiKey not in self.values:
            raise client_error("NotFoundException", "GetApiKey")
        return {"id": apiKey, **({"value": self.values[apiKey]} if includeValue else {})}


@dataclass
class FakeAws:
    dynamodb: FakeDynamoDB = field(default_factory=FakeDynamoDB)
    s3: FakeS3 = field(default_factory=FakeS3)
    sqs: FakeSQS = field(default_factory=FakeSQS)
    sns: FakeSNS = field(default_factory=FakeSNS)
    apigatewaymanagementapi: FakeConnections = field(default_factory=FakeConnections)
    apigateway: FakeApiKeys = field(default_factory=FakeApiKeys)

    def client(self, service: str, bulk: bool = False) -> Any:
        """The fake for `service`; bulk and interactive clients share it, as they share the real service."""
        found = getattr(self, service, None)
        if found is None:
            raise AssertionError(f"unit tests have no fake for the {service!r} client")
        return found


# --------------------------------------------------------------------------------------- manifests

FEATURES = ["price", "units_7d", "margin"]


def make_manifest(
    name: str = "demo-scorer",
    version: str = "v1",
    features: list[str] | None = None,
    framework: str = "json",
    files: dict[str, str] | dict[str, tuple[str, int]] | None = None,
) -> Any:
    """A valid Manifest; `files` maps relative path -> sha256, or (sha256, bytes) (the entrypoint is first)."""
    from commerce_ai.artifacts.manifest import Manifest

    features = FEATURES if features is None else features
    files = files or {"model.json": "0" * 64}
    return Manifest.model_validate(
        {
            "name": name,
            "version": version,
            "created_at": "2026-01-01T00:00:00+00:00",
            "git_commit": "abcdef12",
            "framework": framework,
            "entrypoint": next(iter(files)),
            "input_schema": {
                "tensors": [{"name": "features", "dtype": "float32", "shape": [None, len(features) or None]}],
                "feature_names": features,
            },
            "output_schema": [{"name": "score", "dtype": "float32", "shape": [None, 1]}],
            "training_data": {"fingerprint": "f" * 64, "source": "unit test"},
            "metrics": {"mae": 1.5},
            "files": {
                path: {"sha256": entry, "bytes": 1}
                if isinstance(entry, str)
                else {"sha256": entry[0], "bytes": entry[1]}
                for path, entry in files.items()
            },
        }
    )

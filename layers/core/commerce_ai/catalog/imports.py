"""Bulk import: a CSV or JSON-lines file uploaded under `uploads/catalog/` in the shop's uploads bucket.

All or nothing: every line is checked before anything is written, and a file with a bad line writes no
item; its status lists the first problems by line. A good file's items are written (an item already in the
catalogue is replaced), so importing the same file again (a redelivered notification) gives the same
catalogue. Either way a status record lands beside the upload, `<upload>.status.json`, which the bucket's
notification filters (suffix `.csv` or `.jsonl`) do not announce again.

CSV: a header with `item_id`, `title`, `category`, optionally `brand`, `price`, `in_stock` (true/false,
yes/no, 1/0), `stock`, `image_url`; any other column is an attribute (an empty cell is left out).
JSON lines: one object per line with the fields of `PUT /catalog/items/{item_id}` and `item_id`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError

from commerce_ai.catalog.items import ATTRIBUTE_NAME, ImportedItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.errors import InvalidInput
from commerce_ai.stream.schema import format_timestamp

PREFIX = "uploads/catalog/"
SUFFIXES = (".csv", ".jsonl")
STATUS_SUFFIX = ".status.json"
MAX_UPLOAD_BYTES = 100 * 1024 * 1024
MAX_PROBLEMS = 20  # reported per rejected file; the count says how many there were
REQUIRED_COLUMNS = ("item_id", "title", "category")
TYPED_COLUMNS = ("brand", "price", "in_stock", "stock", "image_url")
TRUE, FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


class ImportRejected(InvalidInput):
    """The file has problems; nothing of it was written."""

    def __init__(self, problems: list[str], total: int | None = None) -> None:
        super().__init__("; ".join(problems[:3]))
        self.problems = problems[:MAX_PROBLEMS]
        self.total = len(problems) if total is None else total


@dataclass
class ImportStatus:
    upload: str
    status: Literal["imported", "rejected"]
    items: int
    started_at: str
    finished_at: str
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def status_key(upload_key: str) -> str:
    return upload_key + STATUS_SUFFIX


def is_import(key: str) -> bool:
    return key.startswith(PREFIX) and key.endswith(SUFFIXES)


def _problems_of(error: ValidationError, line: int) -> list[str]:
    return [f"line {line}: {'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg']}" for e in error.errors()]


def _csv_row(row: dict[str, str], line: int, problems: list[str]) -> dict[str, Any] | None:
    item: dict[str, Any] = {"attributes": {}}
    for column, raw in row.items():
        text = (raw or "").strip()
        if column in REQUIRED_COLUMNS:
            item[column] = text
        elif not text:
            continue
        elif column in ("price", "stock"):
            try:
                item[column] = float(text)
            except ValueError:
                problems.append(f"line {line}: {column}: {text!r} is not a number")
                return None
        elif column == "in_stock":
            if text.lower() not in TRUE | FALSE:
                problems.append(f"line {line}: in_stock: {text!r} is not true/false, yes/no or 1/0")
                return None
            item[column] = text.lower() in TRUE
        elif column in TYPED_COLUMNS:
            item[column] = text
        else:
            item["attributes"][column] = text
    return item


def _csv_records(text: str, problems: list[str]) -> list[tuple[int, dict[str, Any] | None]]:
    reader = csv.DictReader(io.StringIO(text), restkey="#extra")
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRejected([f"line 1: the header lacks {', '.join(missing)} (it has: {', '.join(header)})"])
    repeated = sorted({c for c in header if header.count(c) > 1})
    odd = [c for c in header if c not in REQUIRED_COLUMNS + TYPED_COLUMNS and not _attribute_name(c)]
    if repeated or odd:
        raise ImportRejected([f"line 1: header columns repeated {repeated} or not attribute names {odd}"])
    records: list[tuple[int, dict[str, Any] | None]] = []
    for row in reader:
        line = reader.line_num
        if "#extra" in row:
            problems.append(f"line {line}: more cells than the header has columns")
            records.append((line, None))
            continue
        records.append((line, _csv_row(row, line, problems)))
    return records


def _attribute_name(column: str) -> bool:
    return re.fullmatch(ATTRIBUTE_NAME, column) is not None


def _jsonl_records(text: str, problems: list[str]) -> list[tuple[int, dict[str, Any] | None]]:
    records: list[tuple[int, dict[str, Any] | None]] = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(f"line {line}: not JSON ({exc.msg})")
            records.append((line, None))
            continue
        if not isinstance(value, dict):
            problems.append(f"line {line}: not a JSON object")
            records.append((line, None))
            continue
        records.append((line, value))
    return records


def _line_number(problem: str) -> int:
    found = re.match(r"line (\d+):", problem)
    return int(found.group(1)) if found else 0


def parse_upload(name: str, data: bytes) -> list[ImportedItem]:
    """Every item of an upload, or ImportRejected listing the file's problems by line."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportRejected([f"the file is {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} a file"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([f"the file is not UTF-8 (byte {exc.start})"]) from exc
    problems: list[str] = []
    if name.endswith(".csv"):
        records = _csv_records(text, problems)
    elif name.endswith(".jsonl"):
        records = _jsonl_records(text, problems)
    else:
        raise ImportRejected([f"{name}: only .csv and .jsonl files are imported"])
    items: list[ImportedItem] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        if record is None:
            continue
        try:
            item = ImportedItem.model_validate(record, strict=name.endswith(".jsonl"))
        except ValidationError as exc:
            problems.extend(_problems_of(exc, line))
            continue
        if item.item_id in first_line:
            problems.append(f"line {line}: item_id {item.item_id} is also on line {first_line[item.item_id]}")
            continue
        first_line[item.item_id] = line
        items.append(item)
    if problems:
        raise ImportRejected(sorted(problems, key=_line_number))
    if not items:
        raise ImportRejected(["the file holds no items"])
    return items


def import_items(
    catalog: Catalog,
    upload: str,
    data: bytes,
    now: datetime,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportStatus:
    """Check the whole upload, then write its items; the status says which happened and when it ended.

    `now` stamps the items (one import, one `updated_at`); `clock` reads the end, after the writes, which
    for a 60,000-item file is tens of seconds later.
    """
    started = format_timestamp(now)
    try:
        items = parse_upload(upload, data)
    except ImportRejected as rejected:
        return ImportStatus(
            upload, "rejected", 0, started, format_timestamp(clock()), rejected.problems, rejected.total
        )
    written = catalog.put_many(item.at(item.item_id, now) for item in items)
    return ImportStatus(upload, "imported", written, started, format_timestamp(clock()))

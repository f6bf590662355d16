"""Every tick's whole decision log, kept decisions included, in S3: the record of what each SKU's tick
saw and did, readable by Athena or pandas, while DynamoDB keeps only the changes, blocks and failures.

Layout: `decisions/dt=YYYY-MM-DD/<tick>.jsonl.gz` in `PRICING_DECISION_LOG_BUCKET`, one gzip file of JSON
lines per tick (a scaled-out tick: one per chunk, `<tick>.part-<chunk>.jsonl.gz`), one decision record a
line (`sku` and the fields of `GET /pricing/prices/{sku}/history`),
the date being the tick's (UTC). Hive-style `dt=` partitions let Athena prune by date (a table over
`s3://<bucket>/decisions/` with the JSON SerDe and `dt` as its partition key), and
`pandas.read_json(path, lines=True)` reads a file as it is.

Written with the behaviour-event archive's writer and read with its reader (`commerce_ai.stream.archive`).
The object's name is the tick's and its bytes depend only on the records (sorted by SKU, gzip without a
timestamp), so a retried tick overwrites its own object instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from commerce_ai import aws
from commerce_ai.pricing.decisions import DecisionRecord, fields_of
from commerce_ai.stream.archive import EventArchive, gzip_json_lines, partition_prefix

PREFIX = "decisions/"


def tick_day(tick: str) -> date:
    return date.fromisoformat(tick[:10])


def object_key(tick: str, chunk: int | None = None) -> str:
    part = f".part-{chunk:06d}" if chunk is not None else ""
    return f"{partition_prefix(tick_day(tick), PREFIX)}{tick}{part}.jsonl.gz"


def tick_of(key: str) -> str:
    """The tick an object's key names (a chunk's object names its tick and its part)."""
    return key.rsplit("/", 1)[-1].removesuffix(".jsonl.gz").split(".part-")[0]


def log_line(record: DecisionRecord) -> dict[str, Any]:
    return {"sku": record.sku, **fields_of(record)}


class DecisionArchive:
    s3 = aws.ClientAttribute("s3")

    def __init__(self, bucket: str, s3: Any = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    def location(self) -> str:
        return f"s3://{self.bucket}/{PREFIX}dt=YYYY-MM-DD/<tick>.jsonl.gz"

    def write(self, tick: str, records: list[DecisionRecord], chunk: int | None = None) -> str:
        """The tick's whole log (or its chunk's) as one object (written again, the same bytes); returns its
        key."""
        key = object_key(tick, chunk)
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=gzip_json_lines(log_line(r) for r in sorted(records, key=lambda r: r.sku)),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        return key

    def _reader(self) -> EventArchive:
        return EventArchive(self.bucket, self.s3, prefix=PREFIX)

    def records(self, tick: str) -> list[dict[str, Any]]:
        """A tick's log lines, of all its chunks (empty if the tick wrote none)."""
        reader = self._reader()
        keys = [k for k in reader.keys(tick_day(tick), tick_day(tick)) if tick_of(k) == tick]
        return [line for key in sorted(keys) for line in reader.records(key)]

    def ticks(self, start: date, end: date) -> Iterator[str]:
        """The ticks logged on the days from `start` to `end`, both included, oldest first."""
        seen: set[str] = set()
        for key in self._reader().keys(start, end):
            tick = tick_of(key)
            if tick not in seen:
                seen.add(tick)
                yield tick

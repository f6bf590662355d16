"""The behaviour-event archive in S3: the training data of every capability that learns from behaviour.

Layout: `events/dt=YYYY-MM-DD/<name>.jsonl.gz`, one gzip file of JSON lines (one `to_record()` event a
line) per archive batch and event date (UTC). Hive-style `dt=` partitions let Athena prune by date
(a table over `s3://<bucket>/events/` with the JSON SerDe and `dt` as its partition key), and
`pandas.read_json(path, lines=True)` reads a file as it is (the compression is inferred from `.gz`).

Exactly once in effect, without a ledger: an object's name is a hash of the event ids it holds, and its
bytes depend only on the events (gzip without a timestamp), so a redelivered batch overwrites its own
object with the same bytes. A re-posted event that arrives in another batch lands in a second object;
the reader (`read_events`, `EventArchive.iter_events`) keeps the first occurrence of each `event_id`, so
a training set never counts an event twice.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from commerce_ai import aws
from commerce_ai.stream.schema import BehaviourEvent

PREFIX = "events/"
RETENTION_DAYS = 365  # keep in step with the events bucket's lifecycle rule in template.yaml


def partition_prefix(day: date, prefix: str = PREFIX) -> str:
    return f"{prefix}dt={day.isoformat()}/"


def object_key(day: date, event_ids: Iterable[str]) -> str:
    """Deterministic: the same events give the same name, whatever their order."""
    digest = hashlib.sha256("\n".join(sorted(set(event_ids))).encode()).hexdigest()[:32]
    return f"{partition_prefix(day)}{digest}.jsonl.gz"


def gzip_json_lines(records: Iterable[dict[str, Any]]) -> bytes:
    """Gzip JSON lines, one record a line, in the order given; mtime 0, so equal records give equal bytes.
    Other archives (pricing's decision log) write their objects with it too."""
    lines = "".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
    return gzip.compress(lines.encode("utf-8"), compresslevel=6, mtime=0)


def encode(events: Sequence[BehaviourEvent]) -> bytes:
    """Gzip JSON lines, ordered by event id; mtime 0, so equal events give equal bytes."""
    return gzip_json_lines(e.to_record() for e in sorted(events, key=lambda e: e.event_id))


def by_day(events: Iterable[BehaviourEvent]) -> dict[date, list[BehaviourEvent]]:
    days: dict[date, list[BehaviourEvent]] = defaultdict(list)
    for event in events:
        days[event.timestamp.date()].append(event)  # timestamps are UTC (the schema converts them)
    return dict(days)


class EventArchive:
    """Writes archive objects and reads them back, deduplicated. `prefix` names another date-partitioned
    archive of gzip JSON lines for `keys` and `records` (pricing's decision log reads its own so)."""

    s3 = aws.ClientAttribute("s3")

    def __init__(self, bucket: str, s3: Any = None, prefix: str = PREFIX) -> None:
        self.bucket = bucket
        self._s3 = s3
        self.prefix = prefix

    def write(self, events: Sequence[BehaviourEvent]) -> list[str]:
        """One object per event date; returns their keys. Writing the same events again changes nothing."""
        keys = []
        for day, day_events in sorted(by_day(events).items()):
            unique = list({e.event_id: e for e in day_events}.values())
            key = object_key(day, (e.event_id for e in unique))
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=encode(unique),
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
            )
            keys.append(key)
        return keys

    def keys(self, start: date, end: date) -> Iterator[str]:
        """Archive objects of the days from `start` to `end`, both included, oldest day first."""
        day = start
        paginator = self.s3.get_paginator("list_objects_v2")
        while day <= end:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=partition_prefix(day, self.prefix)):
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".jsonl.gz"):
                        yield item["Key"]
            day += timedelta(days=1)

    def records(self, key: str) -> Iterator[dict[str, Any]]:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        for line in gzip.decompress(body).decode("utf-8").splitlines():
            if line:
                yield json.loads(line)

    def iter_events(self, start: date, end: date) -> Iterator[dict[str, Any]]:
        """Every archived event of those days once (the first copy of each `event_id`), as records."""
        seen: set[str] = set()
        for key in self.keys(start, end):
            for record in self.records(key):
                if record["event_id"] not in seen:
                    seen.add(record["event_id"])
                    yield record


def read_events(bucket: str, start_date: date, end_date: date, s3: Any = None) -> Iterator[dict[str, Any]]:
    """The archived events of those days, each `event_id` once, as records (JSON types). Training turns
    them into a DataFrame with `model_build.behaviour_events` (pandas is not in the Lambda layers)."""
    return EventArchive(bucket, s3).iter_events(start_date, end_date)

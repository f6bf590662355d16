"""The archive: deterministic objects (a redelivered batch changes nothing), a reader that deduplicates,
and files pandas reads as they are."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from typing import Any

import pandas

from commerce_ai.stream.archive import EventArchive, encode, object_key, read_events
from commerce_ai.stream.schema import BehaviourEvent
from model_build.behaviour_events import events_frame
from tests.unit.fakes import FakeS3

BUCKET = "events"


def ev(n: int, day: int = 5, **changes: Any) -> BehaviourEvent:
    return BehaviourEvent.model_validate(
        {
            "event_id": f"e-{n:03d}",
            "user_id": "u-1",
            "session_id": "s-1",
            "event_type": "view",
            "timestamp": f"2026-12-{day:02d}T23:59:59.500+00:00",
            "item_id": "sku-1",
            **changes,
        }
    )


def test_names_and_bytes_depend_only_on_the_events() -> None:
    a, b = ev(1), ev(2)
    assert object_key(date(2026, 12, 5), ["e-2", "e-1", "e-1"]) == object_key(date(2026, 12, 5), ["e-1", "e-2"])
    assert object_key(date(2026, 12, 5), ["e-1"]).startswith("events/dt=2026-12-05/")
    assert encode([a, b]) == encode([b, a])
    lines = gzip.decompress(encode([b, a])).decode().splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["e-001", "e-002"]


def test_a_batch_is_split_by_event_date_and_rewriting_it_changes_nothing() -> None:
    s3 = FakeS3()
    archive = EventArchive(BUCKET, s3)
    keys = archive.write([ev(1, day=5), ev(2, day=6), ev(3, day=5)])
    assert [k.split("/")[1] for k in keys] == ["dt=2026-12-05", "dt=2026-12-06"]
    before = dict(s3.objects)
    assert archive.write([ev(3, day=5), ev(2, day=6), ev(1, day=5)]) == keys
    assert s3.objects == before


def test_the_reader_keeps_each_event_id_once_in_date_order() -> None:
    s3 = FakeS3()
    archive = EventArchive(BUCKET, s3)
    archive.write([ev(1, day=4), ev(2)])
    archive.write([ev(2), ev(3)])  # e-2 re-posted, archived in another batch
    archive.write([ev(9, day=8)])  # outside the range read
    ids = [r["event_id"] for r in archive.iter_events(date(2026, 12, 4), date(2026, 12, 6))]
    assert sorted(ids) == ["e-001", "e-002", "e-003"]
    frame = events_frame(read_events(BUCKET, date(2026, 12, 4), date(2026, 12, 6), s3=s3))
    assert list(frame["event_id"]) == ["e-001", "e-002", "e-003"]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert list(frame.columns)[:4] == ["event_id", "user_id", "session_id", "event_type"]


def test_an_empty_range_is_an_empty_frame_with_the_schema_columns() -> None:
    frame = events_frame(read_events(BUCKET, date(2026, 1, 1), date(2026, 1, 2), s3=FakeS3()))
    assert frame.empty and "event_id" in frame.columns


def test_pandas_reads_an_archive_file_as_it_is() -> None:
    data = encode([ev(1, price=2.5), ev(2, event_type="search", item_id=None, query="juice")])
    frame = pandas.read_json(io.BytesIO(data), lines=True, compression="gzip")
    assert list(frame["event_id"]) == ["e-001", "e-002"]
    assert frame.loc[1, "query"] == "juice"

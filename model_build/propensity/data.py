"""Training data for propensity: CDNOW (real purchases), a user's own file, or the platform's event archive,
all read into one events frame in the stream's schema (`commerce_ai.stream.schema.BehaviourEvent` columns).

CDNOW is Fader and Hardie's CDNOW master file (23,570 customers who first bought at CDNOW in the first
quarter of 1997, every purchase until the end of June 1998: customer, date, CDs, dollars), as shipped in
the `lifetimes` package (`lifetimes/datasets/CDNOW_master.txt`). It is read from the installed package,
never downloaded, and its sha256 is checked. A purchase line becomes one `purchase` event: the day at
12:00 UTC (the file has dates only), quantity = CDs, price = dollars / CDs (the unit price), item
`cdnow-cd` (the file has no items), one session per customer and day. A customer with several lines on
one day keeps them all (they are separate orders in the file).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commerce_ai.stream.schema import BehaviourEvent

if TYPE_CHECKING:
    import pandas

CDNOW_FILE = "CDNOW_master.txt"
CDNOW_SHA256 = "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef"
CDNOW_SOURCE = (
    "CDNOW master file (Fader & Hardie), as shipped in the lifetimes package: real purchases, 23,570 customers"
)
PURCHASES_ONLY = ("user_id", "timestamp", "item_id", "quantity", "price")


def cdnow_path() -> Path:
    """The file inside the installed lifetimes package, found without importing it (lifetimes imports
    scipy and autograd, and warns on pandas 3; the build needs only its data file)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the lifetimes package is not installed (it is in the `train` extra)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / CDNOW_FILE


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_cdnow() -> pandas.DataFrame:
    """CDNOW as purchase events (module docstring), checksum verified."""
    import pandas

    path = cdnow_path()
    found = sha256_of(path)
    if found != CDNOW_SHA256:
        raise RuntimeError(f"{path} has sha256 {found}, expected {CDNOW_SHA256}: not the CDNOW file this code knows")
    raw = pandas.read_csv(path, sep=r"\s+", header=0, dtype={"customer_id": str, "date": str})
    raw = raw.rename(columns={"number_of_cds": "cds", "dollar_value": "dollars"})
    day = pandas.to_datetime(raw["date"], format="%Y%m%d", utc=True)
    cds = raw["cds"].clip(lower=1)  # a handful of lines have 0 CDs and a refund-like amount
    frame = pandas.DataFrame(
        {
            "event_id": "cdnow-" + raw.index.astype(str),
            "user_id": "cdnow-" + raw["customer_id"],
            "session_id": "cdnow-" + raw["customer_id"] + "-" + raw["date"],
            "event_type": "purchase",
            "timestamp": day + pandas.Timedelta(hours=12),
            "item_id": "cdnow-cd",
            "quantity": cds.astype(int),
            "price": (raw["dollars"].clip(lower=0) / cds).round(4),
        }
    )
    return frame.sort_values(["timestamp", "event_id"], kind="stable").reset_index(drop=True)


def read_user_file(path: Path) -> pandas.DataFrame:
    """A CSV or JSONL of events in the stream's schema; a purchases-only file (`user_id, timestamp,
    item_id, quantity, price`) is valid: each row is then a purchase, with an event id from its content
    and a session per user and day. Every row is validated as a `BehaviourEvent`; the first bad row is
    named in the error."""
    import pandas

    if path.suffix.lower() in {".jsonl", ".json", ".ndjson"}:
        frame = pandas.read_json(path, lines=True, dtype=False)
    else:
        frame = pandas.read_csv(path, dtype={"user_id": str, "item_id": str, "event_id": str, "session_id": str})
    missing = [c for c in ("user_id", "timestamp") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (needs at least {', '.join(PURCHASES_ONLY)})")
    records = frame.to_dict("records")
    events = [_event(_clean(r), i, path) for i, r in enumerate(records)]
    return events_to_frame(events)


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    import pandas

    out: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or (not isinstance(value, str | list | dict) and pandas.isna(value)):
            continue
        if key == "quantity":
            value = int(value)
        elif key in {"price", "value"}:
            value = float(value)
        elif key == "timestamp":
            value = pandas.Timestamp(value).isoformat() if not isinstance(value, str) else value
        elif key == "properties" and isinstance(value, str):
            value = json.loads(value)
        out[key] = value
    return out


def _event(record: dict[str, Any], row: int, path: Path) -> BehaviourEvent:
    record.setdefault("event_type", "purchase")
    if "event_id" not in record:
        content = json.dumps(record, sort_keys=True, default=str)
        record["event_id"] = "row-" + hashlib.sha256(content.encode()).hexdigest()[:24]
    if "session_id" not in record:
        record["session_id"] = f"{record['user_id']}-{str(record['timestamp'])[:10]}"
    try:
        return BehaviourEvent.model_validate_json(json.dumps(record, default=str))
    except ValueError as exc:
        raise ValueError(f"{path}: row {row + 1} is not a valid event: {exc}") from exc


def events_to_frame(events: Iterable[BehaviourEvent]) -> pandas.DataFrame:
    from model_build.behaviour_events import events_frame

    return events_frame(e.to_record() for e in events)


def frame_events(frame: pandas.DataFrame) -> Iterable[BehaviourEvent]:
    """The frame's rows as events, in frame order. The frame was validated when it was made (CDNOW is
    fixed and checksummed, user files and the archive went through the schema), so rows are constructed
    without validating each again: this is the build's hot loop."""
    import pandas

    columns = list(frame.columns)
    for values in frame.itertuples(index=False, name=None):
        fields = {c: v for c, v in zip(columns, values, strict=True) if not _missing(v)}
        stamp = fields["timestamp"]
        fields["timestamp"] = stamp.to_pydatetime() if isinstance(stamp, pandas.Timestamp) else stamp
        if "quantity" in fields:
            fields["quantity"] = int(fields["quantity"])
        yield BehaviourEvent.model_construct(**fields)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and value != value  # NaN

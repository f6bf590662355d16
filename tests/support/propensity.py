"""What propensity's tests share: small purchase histories and a small real `propensity-*` build."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from commerce_ai.stream.schema import BehaviourEvent

START = datetime(2026, 6, 1, tzinfo=UTC)


def purchases_csv(path: Path, users: int = 300, days: int = 150, seed: int = 3) -> Path:
    """A purchases-only file (`user_id,timestamp,item_id,quantity,price`): each user buys at their own
    rate, and some stop buying after a while, so recency and frequency carry signal."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "timestamp", "item_id", "quantity", "price"])
        for u in range(users):
            rate = rng.choice([0.01, 0.03, 0.08, 0.2])
            stops = rng.uniform(20, days * 1.5)
            first = rng.uniform(0, 30)
            for day in range(int(first), days):
                if day <= stops and rng.random() < rate:
                    moment = START + timedelta(days=day, hours=rng.uniform(8, 22))
                    writer.writerow(
                        [
                            f"u{u}",
                            moment.isoformat(),
                            f"i{rng.randrange(40)}",
                            rng.randint(1, 3),
                            round(rng.uniform(3, 40), 2),
                        ]
                    )
    return path


def purchase_frame(rows: list[tuple[str, datetime]]) -> Any:
    """One purchase event per (user, time), as the archive reader frames them (pandas)."""
    import pandas

    return pandas.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "user_id": [u for u, _ in rows],
            "session_id": [f"s{i}" for i in range(len(rows))],
            "event_type": "purchase",
            "timestamp": pandas.to_datetime([t for _, t in rows], utc=True),
            "item_id": "i",
            "price": 2.0,
            "quantity": 1,
        }
    )


@cache
def built_propensity(root: Path) -> Path:
    """`propensity-7d` and `propensity-28d` trained on a small purchases file, under `root` (once)."""
    from model_build.propensity import build

    workdir = root / "propensity-build"
    build(workdir, data=purchases_csv(root / "purchases.csv"))
    return workdir


def event(
    event_id: str,
    event_type: str,
    at: datetime,
    user: str = "u-1",
    session: str = "s-1",
    **fields: object,
) -> BehaviourEvent:
    if event_type != "search":
        fields.setdefault("item_id", "item-1")
    else:
        fields.setdefault("query", "red shoes")
    if event_type == "impression":
        fields.setdefault("item_ids", ["item-1", "item-2"])
    if event_type == "rating":
        fields.setdefault("value", 4.0)
    return BehaviourEvent.model_validate(
        {
            "event_id": event_id,
            "user_id": user,
            "session_id": session,
            "event_type": event_type,
            "timestamp": at,
            **fields,
        }
    )

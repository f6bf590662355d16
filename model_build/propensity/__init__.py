"""Purchase propensity: will a user buy within 7 days, within 28 days? Trained on CDNOW (real purchases).

`build` folds every customer's purchases into the serving profile at each cut-off of the out-of-time
protocol (`dataset`), trains XGBoost per horizon, calibrates it on the validation slice and exports
`propensity-7d` and `propensity-28d` (ONNX + `propensity.json`). `build(workdir, data=F)` trains on a
user's CSV or JSONL of events instead (a purchases-only file is valid), and `data=Path("archive")`
(`commerce-ai train propensity --data archive`) on the platform's behaviour-event archive, without the
users erased through `DELETE /users/{user_id}`. `evaluate` writes `reports/propensity.md`; `seed` gives
the local stack a few demo users (`demo-user-0`..) folded from the clickstream simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built

MODELS: list[str] = ["propensity-7d", "propensity-28d"]
ARCHIVE = "archive"  # `--data archive`: the behaviour-event archive instead of a file
ARCHIVE_DAYS = 365  # the archive's retention


def build(workdir: Path, data: Path | None = None) -> list[Built]:
    """Train on CDNOW, on a user's file `data`, or (`data=Path("archive")`) on the event archive."""
    from model_build.progress import stage
    from model_build.propensity.data import CDNOW_SOURCE, load_cdnow, read_user_file
    from model_build.propensity.dataset import CDNOW_HOLDOUT, Plan
    from model_build.propensity.train import export, train

    skip: frozenset[str] = frozenset()
    with stage("read purchase and behaviour events"):
        if data is None:
            frame, source = load_cdnow(), CDNOW_SOURCE
            plan = Plan.stepping_back(CDNOW_HOLDOUT, frame["timestamp"].min().to_pydatetime(), training=3)
        else:
            if str(data) == ARCHIVE and not data.exists():
                from model_build.behaviour_events import archived_events
                from model_build.propensity.erasure import erased_users

                frame, source = archived_events(days=ARCHIVE_DAYS), "the behaviour-event archive"
                skip = erased_users()
            else:
                frame, source = read_user_file(data), f"events file {data.name}"
            if frame.empty:
                raise ValueError(f"no events to train on in {source}")
            plan = Plan.for_data(frame)
    return export(train(frame, plan, source, skip), workdir)


def build_inputs() -> dict[str, str]:
    """What determines `build` besides its code (the build cache's key): CDNOW's checksum."""
    from model_build.propensity.data import CDNOW_SHA256

    return {"data:CDNOW_master.txt sha256": CDNOW_SHA256}


DEMO_USERS = 5


def seed(stack: Stack, cache_dir: Path) -> str:
    """Profiles for DEMO_USERS simulated users (`demo-user-0`..) over the last 60 days, folded with the
    serving code; users that already have a profile are left as they are."""
    import time
    from datetime import UTC, datetime, timedelta

    from commerce_ai.propensity.features import profile_from_events
    from commerce_ai.propensity.store import ProfileStore
    from model_build.propensity.clickstream import ClickstreamConfig, simulate

    del cache_dir
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    config = ClickstreamConfig(users=DEMO_USERS, days=60, start=today - timedelta(days=60), user_prefix="demo-user-")
    events = simulate(config.model_copy(update={"sessions_per_day": 0.6}))
    store = ProfileStore(stack.physical_name("UserProfilesTable"))
    added = 0
    for u in range(DEMO_USERS):
        user = f"demo-user-{u}"
        if store.get(user, consistent=True) is None:
            mine = [e for e in events if e.user_id == user]
            added += store.save(profile_from_events(user, mine), None, time.time())
    return f"propensity profiles: {added} demo user(s) added"


def evaluate(report_dir: Path) -> Path:
    from model_build.propensity.report import write_report

    return write_report(report_dir)

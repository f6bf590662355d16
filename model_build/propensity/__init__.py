"""Purchase propensity: will a user buy within 7 days, within 28 days? Trained on CDNOW (real purchases).

`build` folds every customer's purchases into the serving profile at each cut-off of the out-of-time
protocol (`dataset`), trains XGBoost per horizon, calibrates it on the validation slice and exports
`propensity-7d` and `propensity-28d` (ONNX + `propensity.json`): what `up` builds. `build(workdir, data=F)`
trains on a user's CSV or JSONL of events instead (a purchases-only file is valid), and
`data=Path("archive")` on the platform's behaviour-event archive, without the users erased through
`DELETE /users/{user_id}`: what `commerce-ai train propensity` does without `--data` (TRAIN_DEFAULT_DATA;
`--data cdnow` trains on CDNOW). `evaluate` writes `reports/propensity.md`; `seed` gives
the local stack a few demo users (`demo-user-0`..) folded from the clickstream simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infra.template import Stack
    from model_build import Built
    from model_build.propensity.train import Trained

MODELS: list[str] = ["propensity-7d", "propensity-28d"]
ARCHIVE = "archive"  # `--data archive`: the behaviour-event archive
CDNOW = "cdnow"  # `--data cdnow`: CDNOW, what `up` builds on
ARCHIVE_DAYS = 365  # the archive's retention
# What `commerce-ai train propensity` reads without `--data` (the issue: "by default the platform's event
# archive"). `up` calls `build` without data and builds on CDNOW: the stack must serve models from its
# first start, before it has any history of its own; `--data cdnow` (UP_DATA) builds as `up` does.
TRAIN_DEFAULT_DATA = ARCHIVE
UP_DATA = CDNOW


def build(workdir: Path, data: Path | None = None) -> list[Built]:
    """Train on CDNOW (`data` None or `cdnow`), on a user's file `data`, or (`archive`) on the event archive."""
    from model_build import TrainingDataProblem
    from model_build.progress import stage
    from model_build.propensity.data import CDNOW_SOURCE, load_cdnow, read_user_file
    from model_build.propensity.dataset import CDNOW_HOLDOUT, Plan
    from model_build.propensity.train import export, train

    with stage("read purchase and behaviour events"):
        if data is None or (str(data) == CDNOW and not data.exists()):
            frame, source = load_cdnow(), CDNOW_SOURCE
            plan = Plan.stepping_back(CDNOW_HOLDOUT, frame["timestamp"].min().to_pydatetime(), training=3)
        elif str(data) == ARCHIVE and not data.exists():
            return export(train_on_archive(), workdir)
        else:
            frame, source = read_user_file(data), f"events file {data.name}"
            if frame.empty:
                raise TrainingDataProblem(f"no events to train on in {source}")
            plan = Plan.for_data(frame)
    return export(train(frame, plan, source), workdir)


def train_on_archive() -> Trained:
    """Train on the behaviour-event archive's last ARCHIVE_DAYS days without erased users' events; a
    TrainingDataProblem that says what the archive holds and what is missing when that is too little to train on."""
    from model_build import TrainingDataProblem
    from model_build.behaviour_events import archive_bucket, archived_events
    from model_build.propensity.dataset import MIN_HISTORY_DAYS, Plan
    from model_build.propensity.erasure import without_erased
    from model_build.propensity.train import train

    bucket = archive_bucket()
    source = f"the behaviour-event archive (s3://{bucket}, last {ARCHIVE_DAYS} days)"
    frame, erased = without_erased(archived_events(days=ARCHIVE_DAYS, bucket=bucket))
    skipped = f" ({erased} events of erased users skipped)" if erased else ""
    other = "; train on CDNOW with `--data cdnow`, or on your own events with `--data FILE`"
    if frame.empty:
        raise TrainingDataProblem(f"{source} holds no events{skipped}: nothing to train on{other}")
    first, last = frame["timestamp"].min(), frame["timestamp"].max()
    held = (
        f"{source} holds {len(frame):,} events of {frame['user_id'].nunique():,} users from {first:%Y-%m-%d} to "
        f"{last:%Y-%m-%d}{skipped}"
    )
    purchases = int((frame["event_type"] == "purchase").sum())
    if purchases == 0:
        raise TrainingDataProblem(f"{held}, but no purchase: the models learn who buys{other}")
    span = (last - first).days + 1
    if span < MIN_HISTORY_DAYS:
        raise TrainingDataProblem(
            f"{held}: {span} days of history, and training needs at least {MIN_HISTORY_DAYS} (a training, a "
            f"validation and a holdout cut-off 28 days apart, a week of history before the first and 28 days "
            f"of labels after the last){other}"
        )
    try:
        return train(frame, Plan.for_data(frame), source)
    except ValueError as exc:
        raise TrainingDataProblem(f"{held}: {exc}{other}") from exc


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

"""`commerce-ai train propensity` trains on the behaviour-event archive by default (erased users left out),
says what is missing when the archive holds too little, and keeps CDNOW reachable with `--data cdnow`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas
import pytest

import model_build.propensity as propensity
from commerce_ai.erasure import user_hash
from infra import cli
from model_build import behaviour_events
from model_build.propensity import data as propensity_data
from model_build.propensity import erasure, train
from tests.support.propensity import purchase_frame, purchases_csv


class FakeLog:
    def __init__(self, erased: set[str]) -> None:
        self.hashes = frozenset(user_hash(u) for u in erased)

    def erased_hashes(self) -> frozenset[str]:
        return self.hashes


def purchases(users: int, days: int) -> pandas.DataFrame:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    rows = [(f"u{u}", start + timedelta(days=d, hours=u)) for u in range(users) for d in range(0, days, 5)]
    return purchase_frame(rows)


@pytest.fixture
def archive(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The archive's reader and the erasure log replaced by what the test sets."""
    state: dict[str, Any] = {"frame": purchases(3, 30), "erased": set(), "days": None}

    def archived_events(days: int = 90, **_: Any) -> pandas.DataFrame:
        state["days"] = days
        return state["frame"]

    monkeypatch.setenv("BEHAVIOUR_EVENTS_BUCKET", "events-bucket")  # a deployed stack's: no local stack needed
    monkeypatch.setattr(behaviour_events, "archived_events", archived_events)
    monkeypatch.setattr(erasure, "erasure_log", lambda: FakeLog(state["erased"]))
    return state


def test_train_without_data_reads_the_archive_and_names_what_is_missing(
    archive: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["train", "propensity", "--out", str(tmp_path / "out")]) == 2
    assert archive["days"] == propensity.ARCHIVE_DAYS
    error = capsys.readouterr().err
    assert "the behaviour-event archive (s3://events-bucket, last 365 days) holds 18 events of 3 users" in error
    assert "26 days of history, and training needs at least 91" in error
    assert "--data cdnow" in error
    assert not (tmp_path / "out").exists()


def test_an_empty_archive_or_one_without_purchases_is_named(archive: dict[str, Any]) -> None:
    archive["frame"] = purchases(2, 200).iloc[0:0]
    with pytest.raises(ValueError, match="holds no events: nothing to train on"):
        propensity.train_on_archive()
    archive["frame"] = purchases(2, 200).assign(event_type="view")
    with pytest.raises(ValueError, match="but no purchase"):
        propensity.train_on_archive()
    archive["frame"] = purchases(2, 200)
    archive["erased"] = {"u0", "u1"}
    with pytest.raises(ValueError, match=r"holds no events \(80 events of erased users skipped\)"):
        propensity.train_on_archive()


def test_erased_users_archived_events_are_not_trained_on(
    archive: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    archive["frame"] = propensity_data.read_user_file(purchases_csv(tmp_path / "p.csv", users=40))
    archive["erased"] = {"u3", "u7"}
    seen: dict[str, Any] = {}

    def fake_train(frame: pandas.DataFrame, plan: Any, source: str) -> str:
        seen.update(users=set(frame["user_id"]), source=source, holdout=plan.holdout)
        return "trained"

    monkeypatch.setattr(train, "train", fake_train)
    assert propensity.train_on_archive() == "trained"
    assert seen["users"].isdisjoint({"u3", "u7"}) and "u4" in seen["users"]
    assert seen["source"].startswith("the behaviour-event archive")


def test_cdnow_stays_reachable_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class Loaded(Exception):
        pass

    def load_cdnow() -> None:
        raise Loaded

    monkeypatch.setattr(propensity_data, "load_cdnow", load_cdnow)
    with pytest.raises(Loaded):
        propensity.build(tmp_path, data=Path("cdnow"))
    with pytest.raises(Loaded):
        propensity.build(tmp_path)  # `up`'s build


def test_without_a_stack_the_default_says_what_it_needs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_stack(port: int) -> None:
        raise RuntimeError("no local AWS answers on http://127.0.0.1:4566; start it with `make run`")

    monkeypatch.delenv("BEHAVIOUR_EVENTS_BUCKET", raising=False)
    monkeypatch.setattr(cli, "_running_stack", no_stack)
    assert cli.main(["train", "propensity", "--out", str(tmp_path / "out")]) == 2
    assert "the behaviour-event archive needs its stack (or --data): no local AWS answers" in capsys.readouterr().err

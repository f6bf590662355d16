"""`commerce-ai train recommendations` trains on the behaviour-event archive by default (the daily retrain's
reader, erased users left out), says clearly when the archive holds too little, and `--data movielens` is
what `up` builds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import model_build.recommendations as recommendations
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.catalog.store import Catalog
from commerce_ai.erasure import ErasureLog
from commerce_ai.stream.archive import EventArchive
from commerce_ai.stream.schema import BehaviourEvent
from infra import cli
from model_build.recommendations.archive import archive_training_data
from model_build.recommendations.data import Dataset
from tests.unit.fakes import FakeAws, FakeDynamoDB

TABLES = {"catalog": ("item_id",), "erasures": ("user_hash",), "registry": ("model", "version")}


def event(n: int, user: str, item: str, at: datetime) -> BehaviourEvent:
    return BehaviourEvent(
        event_id=f"e-{n}", user_id=user, session_id="s", event_type="view", timestamp=at, item_id=item
    )


@pytest.fixture
def shop(fake_aws: FakeAws, monkeypatch: pytest.MonkeyPatch) -> datetime:
    """An archive of three users' views in the last days, a catalogue of four items, one user erased."""
    fake_aws.dynamodb = FakeDynamoDB(key_schemas=TABLES)
    for variable, name in [
        ("BEHAVIOUR_EVENTS_BUCKET", "events"),
        ("CATALOG_TABLE", "catalog"),
        ("USER_ERASURES_TABLE", "erasures"),
        ("MODEL_REGISTRY_TABLE", "registry"),
        ("ARTIFACT_BUCKET", "artifacts"),
    ]:
        monkeypatch.setenv(variable, name)
    now = datetime.now(UTC)
    events = [
        event(n, user, item, now - timedelta(days=2, minutes=10 - n))
        for n, (user, item) in enumerate([("u-1", "a"), ("u-1", "b"), ("u-2", "b"), ("u-2", "c"), ("u-3", "a")])
    ]
    EventArchive("events").write(events)
    Catalog("catalog").put_many(
        [CatalogItem(item_id=i, title=f"Item {i}", category="books", updated_at=now) for i in "abcd"]
    )
    ErasureLog("erasures").record("u-3", now - timedelta(hours=1))
    return now


def test_the_archive_is_read_through_the_retrains_reader_without_erased_users(shop: datetime) -> None:
    dataset = archive_training_data()
    assert sorted(dataset.interactions["user_id"].unique()) == ["u-1", "u-2"]  # u-3 was erased
    assert sorted(dataset.items["item_id"]) == ["a", "b", "c", "d"]  # the catalogue's, d untouched
    assert dataset.source.startswith("behaviour-event archive and the shop's catalogue (")
    assert dataset.images is None  # no active visual index


def test_train_without_data_uses_the_archive_and_says_when_it_holds_too_little(
    shop: datetime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["train", "recommendations", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "recommendations: too little to train on: 0 of 2 users have a validation item" in error
    assert "20 are needed" in error and "Traceback" not in error


def test_data_movielens_is_the_up_build_and_archive_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []

    def build(workdir: Path, data: Path | None = None, items: Path | None = None) -> list[Any]:
        calls.append({"data": data, "items": items})
        return []

    monkeypatch.setattr(recommendations, "build", build)
    monkeypatch.setattr(cli, "BUILD_CACHE_DIR", tmp_path / "cache")
    monkeypatch.setenv("BEHAVIOUR_EVENTS_BUCKET", "events")  # a deployed archive: no local stack needed
    assert cli.main(["train", "recommendations", "--out", str(tmp_path)]) == 0
    assert cli.main(["train", "recommendations", "--data", "movielens", "--out", str(tmp_path)]) == 0
    assert calls == [{"data": Path("archive"), "items": None}, {"data": None, "items": None}]


def test_too_little_names_the_users_with_a_validation_item() -> None:
    from model_build.recommendations.retrain import too_little

    rows = [(f"u-{u}", f"i-{k}", float(k)) for u in range(25) for k in range(3 if u < 20 else 2)]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(event_type="view")
    enough = Dataset(frame, pd.DataFrame(columns=["item_id", "title", "categories"]), pd.DataFrame(), "test")
    assert too_little(enough) is None
    fewer = Dataset(frame[frame["user_id"] != "u-0"], enough.items, enough.users, "test")
    assert too_little(fewer) == "19 of 24 users have a validation item (3 or more interactions) in test; 20 are needed"

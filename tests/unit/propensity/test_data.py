"""Training data: CDNOW from the lifetimes package, users' files, and out-of-time examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commerce_ai.propensity.features import FEATURE_NAMES
from model_build.propensity.data import load_cdnow, read_user_file
from model_build.propensity.dataset import CDNOW_HOLDOUT, Plan, examples
from tests.support.propensity import purchase_frame, purchases_csv


def test_cdnow_is_read_from_the_installed_package_and_checked() -> None:
    frame = load_cdnow()
    assert len(frame) == 69_659
    assert frame["user_id"].nunique() == 23_570
    assert set(frame["event_type"]) == {"purchase"}
    plan = Plan.stepping_back(CDNOW_HOLDOUT, frame["timestamp"].min().to_pydatetime(), training=3)
    assert plan.validation == datetime(1997, 9, 3, tzinfo=UTC)
    # every training and validation label window ends by the end of the calibration period
    assert all(c + timedelta(days=28) <= plan.validation for c in plan.training)
    assert plan.validation + timedelta(days=28) <= CDNOW_HOLDOUT


def test_a_purchases_only_file_is_valid(tmp_path: Path) -> None:
    frame = read_user_file(purchases_csv(tmp_path / "p.csv", users=20))
    assert set(frame["event_type"]) == {"purchase"} and frame["event_id"].is_unique


def test_a_bad_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "user_id,timestamp,item_id,quantity,price\nu1,2026-01-01T10:00:00Z,i1,1,2.5\nu2,2026-01-02,i1,1,2.5\n"
    )
    with pytest.raises(ValueError, match="row 2"):
        read_user_file(path)


def test_labels_come_from_the_window_after_the_cutoff_and_features_from_before() -> None:
    cutoff = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [
        ("a", cutoff - timedelta(days=5)),
        ("a", cutoff + timedelta(days=3)),  # within 7 days
        ("b", cutoff - timedelta(days=1)),
        ("b", cutoff + timedelta(days=20)),  # within 28 only
        ("c", cutoff + timedelta(days=1)),  # not seen before the cut-off: no example
    ]
    made = examples(purchase_frame(rows), [cutoff])
    assert made.users == ["a", "b"]
    assert list(made.labels[7]) == [True, False] and list(made.labels[28]) == [True, True]
    # nothing after the cut-off reaches the features
    before_only = examples(purchase_frame([r for r in rows if r[1] < cutoff]), [cutoff])
    assert (made.features == before_only.features).all()
    assert made.column("purchase_count_lifetime").tolist() == [1, 1]
    assert made.features.shape == (2, len(FEATURE_NAMES))

"""The 28-day study's own pieces (model_build/propensity/study.py): its candidate features from a folded
profile, and how its section replaces the one in the report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from commerce_ai.propensity.features import profile_from_events
from model_build.propensity.study import CANDIDATES, SECTION, candidate_features, refresh_report
from tests.support.propensity import START, event


def test_candidate_features_from_a_folded_profile() -> None:
    # purchases on days 0, 10 and 40 (gaps 10 and 30), 2 CDs at $5 then 1 at $20 on the last day
    purchases = [
        event("p0", "purchase", START + timedelta(days=0, hours=12), quantity=2, price=5.0),
        event("p1", "purchase", START + timedelta(days=10, hours=12), quantity=2, price=5.0),
        event("p2", "purchase", START + timedelta(days=40, hours=12), quantity=1, price=20.0),
    ]
    now = (START + timedelta(days=50)).timestamp()
    f = dict(zip(CANDIDATES, candidate_features(profile_from_events("u-1", purchases), now), strict=True))
    assert f["gap_last_over_mean"] == pytest.approx(30 / 20)
    assert f["purchase_days_60d"] == 3 and f["purchase_days_180d"] == 3
    assert f["purchase_days_decayed_30d"] == pytest.approx(sum(0.5 ** (a / 30) for a in (49.5, 39.5, 9.5)))
    assert f["last_day_spend_over_mean_order"] == pytest.approx(20 / (40 / 3))
    assert f["last_day_unit_price_over_mean"] == pytest.approx(20 / 10)  # unit prices 5, 5, 20 per order line


def test_the_section_replaces_its_earlier_self_and_keeps_what_follows(tmp_path: Path) -> None:
    report = tmp_path / "propensity.md"
    report.write_text(f"# Report\n\nbody\n\n{SECTION}\n\nold table\n\n## Calibration\n\nkept\n")
    refresh_report(f"{SECTION}\n\nnew table\n", report)
    assert report.read_text() == f"# Report\n\nbody\n\n{SECTION}\n\nnew table\n\n## Calibration\n\nkept\n"
    plain = tmp_path / "plain.md"
    plain.write_text("# Report\n")
    refresh_report(f"{SECTION}\n\nnew\n", plain)
    assert plain.read_text() == f"# Report\n\n{SECTION}\n\nnew\n"

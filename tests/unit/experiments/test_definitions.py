"""Experiment definitions: what a request may say, and how a change applies to what is stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from commerce_ai.errors import Conflict, InvalidInput
from commerce_ai.experiments import stats
from commerce_ai.experiments.assignment import SCALE
from commerce_ai.experiments.definitions import Experiment, ExperimentChange, apply_change
from tests.unit.experiments.conftest import NOW, body


def created(**overrides: object) -> Experiment:
    return apply_change("ranker-test", None, ExperimentChange.model_validate(body(**overrides)), NOW)


def change(current: Experiment, **fields: object) -> Experiment:
    return apply_change("ranker-test", current, ExperimentChange.model_validate(fields), NOW + timedelta(hours=1))


def test_a_new_experiment_is_running_with_its_plan_and_layout() -> None:
    experiment = created()
    assert experiment.status == "running" and experiment.revision == 1
    assert experiment.created_at == "2026-12-05T10:00:00.000Z" == experiment.updated_at
    assert experiment.layout == [(0, SCALE // 2, "control"), (SCALE // 2, SCALE, "treatment")]
    n = stats.planned_users(0.1, 0.02)[0]
    assert experiment.planned_users() == {"control": n, "treatment": n}
    public = experiment.public()
    assert public["arms"][1] == {
        "name": "treatment",
        "model": {"model": "ranker", "version": "v2"},
        "variant": None,
        "weight": 50,
        "share": 0.5,
        "planned_users": n,
    }
    assert (public["alpha"], public["power"]) == (0.05, 0.8)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"baseline_rate": "0.1"}, "baseline_rate"),  # a number sent as a string
        ({"minimum_detectable_effect": True}, "minimum_detectable_effect"),
        (
            {"arms": [{"name": "a", "variant": "x", "weight": "1"}, {"name": "b", "variant": "y", "weight": 1}]},
            "weight",
        ),
        ({"arms": [{"name": "a", "weight": 1}, {"name": "b", "variant": "y", "weight": 1}]}, "either a model"),
        (
            {"arms": [{"name": "a", "variant": "x", "weight": 1}, {"name": "a", "variant": "y", "weight": 1}]},
            "distinct",
        ),
        ({"arms": [{"name": "a", "variant": "x", "weight": 1}]}, "arms"),
        ({"primary_metric": "revenue"}, "primary_metric"),
        ({"status": "paused"}, "status"),
        ({"colour": "blue"}, "colour"),
        ({"revision": -1}, "revision"),
    ],
)
def test_bad_requests_name_the_problem(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ExperimentChange.model_validate(body(**fields))
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"control": "nobody"}, "not one of the arms"),
        ({"baseline_rate": 0.9, "minimum_detectable_effect": 0.2}, "below 1"),
        (
            {"arms": [{"name": "control", "variant": "x", "weight": 0}, {"name": "b", "variant": "y", "weight": 1}]},
            "positive weight",
        ),
    ],
)
def test_impossible_experiments_are_refused(overrides: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        created(**overrides)


def test_creating_needs_every_part_of_the_plan() -> None:
    with pytest.raises(InvalidInput, match="needs control, primary_metric"):
        apply_change("x", None, ExperimentChange.model_validate({"arms": body()["arms"]}), NOW)


def test_weights_change_in_place_and_arms_can_be_added() -> None:
    experiment = created()
    arms = body()["arms"]
    assert isinstance(arms, list)
    changed = change(
        experiment,
        arms=[
            {**arms[0], "weight": 80},
            {**arms[1], "weight": 10},
            {"name": "blue", "variant": "blue-button", "weight": 10},
        ],
    )
    assert changed.revision == 2 and changed.created_at == experiment.created_at
    assert [a.name for a in changed.arms] == ["control", "treatment", "blue"]
    assert changed.shares() == {"control": 0.8, "treatment": 0.1, "blue": 0.1}
    # control kept its slots and grew; only treatment gave some up
    assert changed.layout[0] == (0, SCALE // 2, "control")


def test_an_arm_keeps_what_it_serves_and_cannot_be_removed() -> None:
    experiment = created()
    arms = body()["arms"]
    assert isinstance(arms, list)
    with pytest.raises(InvalidInput, match="cannot be removed"):
        change(experiment, arms=[arms[0], {"name": "other", "variant": "x", "weight": 1}])
    with pytest.raises(InvalidInput, match="cannot change"):
        change(experiment, arms=[arms[0], {**arms[1], "model": {"model": "ranker", "version": "v3"}}])
    with pytest.raises(InvalidInput, match="control arm"):
        change(experiment, control="treatment")


def test_stopping_is_final_and_stamped() -> None:
    stopped = change(created(), status="stopped")
    assert stopped.status == "stopped" and stopped.stopped_at == "2026-12-05T11:00:00.000Z"
    assert stopped.counts_at(NOW) and not stopped.counts_at(NOW + timedelta(hours=2))
    again = change(stopped, status="stopped", description="done")
    assert again.stopped_at == stopped.stopped_at and again.description == "done"
    with pytest.raises(InvalidInput, match="stopped"):
        change(stopped, status="running")
    with pytest.raises(InvalidInput, match="stopped"):
        change(stopped, baseline_rate=0.2)


def test_a_stale_revision_is_a_conflict() -> None:
    experiment = created()
    with pytest.raises(Conflict, match="revision 1, not 0"):
        change(experiment, revision=0, status="stopped")
    assert change(experiment, revision=1, status="stopped").revision == 2
    with pytest.raises(Conflict):
        apply_change("x", None, ExperimentChange.model_validate(body(revision=3)), NOW)

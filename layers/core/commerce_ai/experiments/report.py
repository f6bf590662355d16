"""An experiment's results per arm, from its counters (`GET /experiments/{name}`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from commerce_ai.experiments import stats
from commerce_ai.experiments.definitions import Experiment
from commerce_ai.experiments.store import ArmCounts
from commerce_ai.stream.schema import format_timestamp

METRICS = {"click_through": "clickers", "conversion": "converters"}


def results(experiment: Experiment, counts: Mapping[str, ArmCounts], now: datetime) -> dict[str, Any]:
    """Per arm: users, exposures, clickers and converters; click-through and conversion rates with Wilson
    95% intervals; against control, each rate's difference with its 95% interval and two-sided p-value;
    and whether the arm has the users the plan asks for. `sample_size_reached` is true once every arm has.
    Arms are compared with control one by one, without a correction for several treatments."""
    planned = experiment.planned_users()
    control = counts.get(experiment.control, ArmCounts())
    arms = []
    for arm in experiment.arms:
        mine = counts.get(arm.name, ArmCounts())
        entry: dict[str, Any] = {
            "arm": arm.name,
            "control": arm.name == experiment.control,
            "users": mine.users,
            "exposures": mine.exposures,
            "clickers": mine.clickers,
            "converters": mine.converters,
        }
        for metric, counter in METRICS.items():
            entry[metric] = stats.wilson(getattr(mine, counter), mine.users).as_json()
        entry["vs_control"] = (
            None
            if arm.name == experiment.control
            else {
                metric: stats.compare(
                    (getattr(mine, counter), mine.users), (getattr(control, counter), control.users)
                ).as_json()
                for metric, counter in METRICS.items()
            }
        )
        entry["planned_users"] = planned[arm.name]
        entry["sample_size_reached"] = mine.users >= planned[arm.name]
        arms.append(entry)
    return {
        "primary_metric": experiment.primary_metric,
        "sample_size_reached": all(a["sample_size_reached"] for a in arms),
        "arms": arms,
        "computed_at": format_timestamp(now),
    }

"""An experiment's results per arm, from its counters (`GET /experiments/{name}`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from commerce_ai.experiments import stats
from commerce_ai.experiments.contract import ArmResults, Comparison, DifferenceView, ExperimentResults, RateView
from commerce_ai.experiments.definitions import Experiment
from commerce_ai.experiments.store import ArmCounts


def _interval(low: float | None, high: float | None) -> tuple[float, float] | None:
    return (low, high) if low is not None and high is not None else None


def rate_view(rate: stats.Rate) -> RateView:
    return RateView(rate=rate.rate, ci95=_interval(rate.low, rate.high))


def difference_view(difference: stats.Difference) -> DifferenceView:
    return DifferenceView(
        difference=difference.difference,
        ci95=_interval(difference.low, difference.high),
        p_value=difference.p_value,
        significant=difference.significant,
    )


def _comparison(mine: ArmCounts, control: ArmCounts) -> Comparison:
    def against_control(counter: str) -> DifferenceView:
        treated = (getattr(mine, counter), mine.users)
        return difference_view(stats.compare(treated, (getattr(control, counter), control.users)))

    return Comparison(click_through=against_control("clickers"), conversion=against_control("converters"))


def results(experiment: Experiment, counts: Mapping[str, ArmCounts], now: datetime) -> ExperimentResults:
    """Per arm: users, exposures, clickers and converters; click-through and conversion rates with Wilson
    95% intervals; against control, each rate's difference with its 95% interval and two-sided p-value;
    and whether the arm has the users the plan asks for. `sample_size_reached` is true once every arm has.
    Arms are compared with control one by one, without a correction for several treatments."""
    planned = experiment.planned_users()
    control = counts.get(experiment.control, ArmCounts())
    arms = []
    for arm in experiment.arms:
        mine = counts.get(arm.name, ArmCounts())
        is_control = arm.name == experiment.control
        arms.append(
            ArmResults(
                arm=arm.name,
                control=is_control,
                users=mine.users,
                exposures=mine.exposures,
                clickers=mine.clickers,
                converters=mine.converters,
                click_through=rate_view(stats.wilson(mine.clickers, mine.users)),
                conversion=rate_view(stats.wilson(mine.converters, mine.users)),
                vs_control=None if is_control else _comparison(mine, control),
                planned_users=planned[arm.name],
                sample_size_reached=mine.users >= planned[arm.name],
            )
        )
    return ExperimentResults(
        primary_metric=experiment.primary_metric,
        computed_at=now,
        sample_size_reached=all(a.sample_size_reached for a in arms),
        arms=arms,
    )

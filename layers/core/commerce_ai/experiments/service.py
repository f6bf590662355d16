"""What the experiments handlers do, kept out of the handlers: create or change, list, describe, count."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.experiments import report
from commerce_ai.experiments.contract import ExperimentDetail, ExperimentView
from commerce_ai.experiments.counting import Applied, apply_events
from commerce_ai.experiments.definitions import EXPERIMENT_NAME, ExperimentChange, apply_change
from commerce_ai.experiments.serving import Definitions
from commerce_ai.experiments.settings import experiments_table
from commerce_ai.experiments.store import ExperimentStore
from commerce_ai.paging import Page
from commerce_ai.stream.schema import BehaviourEvent


@cache
def store() -> ExperimentStore:
    return ExperimentStore(experiments_table())


@cache
def definitions() -> Definitions:
    """The container's cached definitions: what `assign` serves from and what counting matches events to
    (built at first use, so importing needs no configuration)."""
    return Definitions(store())


def experiment_name(name: str) -> str:
    if not re.fullmatch(EXPERIMENT_NAME, name):
        raise InvalidInput(f"experiment name {name[:80]!r} is not valid (lowercase letters, digits and '-', up to 63)")
    return name


def put(name: str, change: ExperimentChange, now: datetime) -> tuple[ExperimentView, bool]:
    """Create or change `name`; (its definition, whether it was created)."""
    current = store().get(experiment_name(name))
    updated = apply_change(name, current, change, now)
    store().put(updated, current.revision if current else None)
    return ExperimentView.model_validate(updated.public()), current is None


def page(limit: int, cursor: str | None) -> Page[ExperimentView]:
    """Definitions in name order; `cursor` is a `next_cursor` this API returned."""
    experiments, next_cursor = store().page(limit, cursor)
    return Page[ExperimentView](
        items=[ExperimentView.model_validate(e.public()) for e in experiments], next_cursor=next_cursor
    )


def describe(name: str, now: datetime) -> ExperimentDetail:
    experiment = store().get(experiment_name(name))
    if experiment is None:
        raise NotFound(f"experiment {name!r} is not defined")
    results = report.results(experiment, store().counts(name), now)
    return ExperimentDetail.model_validate({**experiment.public(), "results": results})


def count(events: Sequence[BehaviourEvent], now: datetime) -> Applied:
    return apply_events(events, store(), definitions(), now)

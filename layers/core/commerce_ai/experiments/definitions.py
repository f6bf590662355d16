"""What an experiment is: the admin's request (`ExperimentChange`), the stored definition (`Experiment`)
and the rules for changing one. Pure: no AWS here.

An experiment compares arms on one primary metric over users. Each arm serves a model version
(`{"model": name, "version": v}`) or a named variant, and gets a share of the traffic by its weight.
The planned sample size comes from the primary metric's baseline rate and the minimum detectable effect
(`stats.planned_users`, alpha 0.05, power 0.8).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from commerce_ai.api_fields import identifier_pattern, storable_fields
from commerce_ai.artifacts.manifest import NAME_PATTERN, VERSION_PATTERN
from commerce_ai.errors import Conflict, InvalidInput
from commerce_ai.experiments import assignment, stats
from commerce_ai.stream.schema import format_timestamp

# Names that are path segments or travel with events (api_fields' identifiers)
EXPERIMENT_NAME = identifier_pattern("-", 63, lowercase=True)
ARM_NAME = identifier_pattern("_-", 32)
VARIANT_NAME = identifier_pattern("._:-", 64)
MAX_ARMS = 10
RUNNING, STOPPED = "running", "stopped"
Metric = Literal["click_through", "conversion"]


class ModelRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    model: str = Field(pattern=NAME_PATTERN, description="A model name in the registry.")
    version: str = Field(pattern=VERSION_PATTERN, description="The version this arm serves, pinned.")


class ArmSpec(BaseModel):
    """One arm: a model version or a named variant (exactly one), and its traffic weight."""

    # strict: a JSON number (an integer is taken as a float), never a string or a boolean
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(pattern=ARM_NAME)
    model: ModelRef | None = None
    variant: str | None = Field(default=None, pattern=VARIANT_NAME)
    weight: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)

    _storable = storable_fields("weight")

    @model_validator(mode="after")
    def _one_treatment(self) -> ArmSpec:
        if (self.model is None) == (self.variant is None):
            raise ValueError("an arm serves either a model version ({model, version}) or a named variant")
        return self

    def serves(self) -> dict[str, Any]:
        return {"model": self.model.model_dump() if self.model else None, "variant": self.variant}


class ExperimentChange(BaseModel):
    """The body of `PUT /experiments/{name}`. Creating needs `arms`, `control`, `primary_metric`,
    `baseline_rate` and `minimum_detectable_effect`; a change sends only what changes (`{"status":
    "stopped"}` stops). `revision`, when given, must be the stored one (0: must not exist yet)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    arms: list[ArmSpec] | None = Field(default=None, min_length=2, max_length=MAX_ARMS)
    control: str | None = Field(default=None, pattern=ARM_NAME)
    primary_metric: Metric | None = None
    baseline_rate: float | None = Field(default=None, gt=0, lt=1, allow_inf_nan=False)
    minimum_detectable_effect: float | None = Field(
        default=None, gt=0, lt=1, allow_inf_nan=False, description="Absolute lift of the primary rate."
    )
    status: Literal["running", "stopped"] | None = None
    description: str | None = Field(default=None, max_length=500)
    revision: StrictInt | None = Field(default=None, ge=0, le=1_000_000_000)

    _storable = storable_fields("baseline_rate", "minimum_detectable_effect")

    @model_validator(mode="after")
    def _distinct_arms(self) -> ExperimentChange:
        if self.arms is not None:
            names = [arm.name for arm in self.arms]
            if len(set(names)) != len(names):
                raise ValueError("arm names must be distinct")
        return self


class Experiment(BaseModel):
    """A stored definition; `layout` is the assignment's segments (see `assignment`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str | None = None
    arms: list[ArmSpec]
    control: str
    primary_metric: Metric
    baseline_rate: float
    minimum_detectable_effect: float
    status: Literal["running", "stopped"]
    created_at: str
    updated_at: str
    stopped_at: str | None = None
    revision: int
    layout: list[tuple[int, int, str]]

    def arm(self, name: str) -> ArmSpec | None:
        return next((arm for arm in self.arms if arm.name == name), None)

    def shares(self) -> dict[str, float]:
        total = sum(arm.weight for arm in self.arms)
        return {arm.name: arm.weight / total for arm in self.arms}

    def planned_users(self) -> dict[str, int]:
        """Users each arm needs: every treatment with traffic against control at the current split (the
        control needs the most any comparison asks of it); an arm without traffic needs none."""
        shares = self.shares()
        planned = {arm.name: 0 for arm in self.arms}
        for arm in self.arms:
            if arm.name == self.control or shares[arm.name] == 0:
                continue
            control, treatment = stats.planned_users(
                self.baseline_rate, self.minimum_detectable_effect, shares[arm.name] / shares[self.control]
            )
            planned[self.control] = max(planned[self.control], control)
            planned[arm.name] = treatment
        return planned

    def counts_at(self, moment: datetime) -> bool:
        """Whether an event at `moment` counts: it happened before the experiment stopped (if it did)."""
        return self.stopped_at is None or format_timestamp(moment) < self.stopped_at

    def public(self) -> dict[str, Any]:
        shares = self.shares()
        planned = self.planned_users()
        return {
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "arms": [
                {
                    "name": arm.name,
                    **arm.serves(),
                    "weight": arm.weight,
                    "share": round(shares[arm.name], 6),
                    "planned_users": planned[arm.name],
                }
                for arm in self.arms
            ],
            "control": self.control,
            "primary_metric": self.primary_metric,
            "baseline_rate": self.baseline_rate,
            "minimum_detectable_effect": self.minimum_detectable_effect,
            "alpha": stats.ALPHA,
            "power": stats.POWER,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "stopped_at": self.stopped_at,
            "revision": self.revision,
        }


def apply_change(name: str, current: Experiment | None, change: ExperimentChange, now: datetime) -> Experiment:
    """The definition after `change`, or InvalidInput (400) / Conflict (409) saying why it cannot be.

    Rules: an arm, once created, keeps what it serves (a user must not see something else under the same
    arm) and cannot be removed (set its weight to 0); the control arm never changes; a stopped experiment
    stays stopped (start a new one); the control keeps some traffic while running, since every comparison
    is against it."""
    if change.revision is not None and change.revision != (current.revision if current else 0):
        held = current.revision if current else 0
        raise Conflict(f"experiment {name!r} is at revision {held}, not {change.revision}; read it and retry")
    stamp = format_timestamp(now)
    if current is None:
        missing = [
            field
            for field in ("arms", "control", "primary_metric", "baseline_rate", "minimum_detectable_effect")
            if getattr(change, field) is None
        ]
        if missing:
            raise InvalidInput(f"a new experiment needs {', '.join(missing)}")
        assert change.arms is not None and change.control is not None and change.primary_metric is not None
        arms = list(change.arms)
        fields: dict[str, Any] = {
            "name": name,
            "created_at": stamp,
            "control": change.control,
            "status": change.status or RUNNING,
            "revision": 0,
            "layout": [],
        }
    else:
        if current.status == STOPPED and (change.status == RUNNING or _changes_anything(change)):
            raise InvalidInput(f"experiment {name!r} is stopped; a stopped experiment cannot change (start a new one)")
        if change.control is not None and change.control != current.control:
            raise InvalidInput(f"the control arm of {name!r} is {current.control!r} and cannot change")
        arms = _merged_arms(current, change.arms)
        fields = current.model_dump(exclude={"arms", "updated_at", "description"})
        fields["status"] = STOPPED if current.status == STOPPED else (change.status or current.status)
    fields["description"] = change.description if change.description is not None else (current and current.description)
    for field in ("primary_metric", "baseline_rate", "minimum_detectable_effect"):
        value = getattr(change, field)
        if value is not None:
            fields[field] = float(value) if field != "primary_metric" else value
    weights = {arm.name: float(arm.weight) for arm in arms}
    if fields["control"] not in weights:
        raise InvalidInput(f"control {fields['control']!r} is not one of the arms ({', '.join(weights)})")
    if weights[fields["control"]] <= 0:
        raise InvalidInput("the control arm needs a positive weight: every arm is compared with it")
    if not 0 < fields["baseline_rate"] + fields["minimum_detectable_effect"] < 1:
        raise InvalidInput("baseline_rate + minimum_detectable_effect must be below 1")
    if fields["status"] == STOPPED and not fields.get("stopped_at"):
        fields["stopped_at"] = stamp
    previous_weights = {arm.name: float(arm.weight) for arm in current.arms} if current else None
    if previous_weights != weights:
        fields["layout"] = assignment.rebalance(fields["layout"], weights)
    fields["revision"] = (current.revision + 1) if current else 1
    return Experiment(arms=arms, updated_at=stamp, **fields)


def _changes_anything(change: ExperimentChange) -> bool:
    return any(
        getattr(change, field) is not None
        for field in ("arms", "control", "primary_metric", "baseline_rate", "minimum_detectable_effect")
    )


def _merged_arms(current: Experiment, arms: list[ArmSpec] | None) -> list[ArmSpec]:
    if arms is None:
        return list(current.arms)
    given = {arm.name: arm for arm in arms}
    removed = [arm.name for arm in current.arms if arm.name not in given]
    if removed:
        raise InvalidInput(f"arms cannot be removed ({', '.join(removed)}); set a weight of 0 instead")
    for arm in current.arms:
        if given[arm.name].serves() != arm.serves():
            raise InvalidInput(f"arm {arm.name!r} serves {arm.serves()} and cannot change; add a new arm instead")
    return [given[arm.name] for arm in current.arms] + [arm for arm in arms if current.arm(arm.name) is None]

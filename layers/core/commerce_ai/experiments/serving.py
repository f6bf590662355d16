"""What serving code uses: cached definitions, a user's arm, the arm's model, the response field."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commerce_ai.artifacts.loader import LoadedModel, ModelLoader
from commerce_ai.config import settings
from commerce_ai.errors import InvalidInput, NotFound
from commerce_ai.experiments import assignment
from commerce_ai.experiments.definitions import STOPPED, Experiment, ModelRef
from commerce_ai.experiments.store import ExperimentStore
from commerce_ai.telemetry import logger


@dataclass(frozen=True)
class Arm:
    experiment: str
    name: str
    model: ModelRef | None  # the model version this arm serves, or
    variant: str | None  # the named variant it serves
    control: bool


def response_field(arm: Arm) -> dict[str, Any]:
    """What every response that used an arm carries: `{"experiment": {"name": ..., "arm": ...}}`."""
    return {"experiment": {"name": arm.experiment, "arm": arm.name}}


def impression_properties(arm: Arm) -> dict[str, str]:
    """The `properties` of an impression event served by `arm` (how exposures are counted)."""
    return {"experiment": arm.experiment, "arm": arm.name}


def arm_of(experiment: Experiment, user_id: str) -> Arm:
    """The user's arm: the control once stopped, else the arm whose slots hold the user's point."""
    if experiment.status == STOPPED:
        name = experiment.control
    else:
        name = assignment.arm_at(experiment.layout, assignment.user_point(experiment.name, user_id))
    spec = experiment.arm(name)
    assert spec is not None, "a layout names only the experiment's arms"
    return Arm(experiment.name, name, spec.model, spec.variant, name == experiment.control)


class Definitions:
    """Experiment definitions cached per container, each re-read at most every `refresh_seconds`; when
    the table cannot be read, the cached definition keeps serving (as the ModelLoader keeps its model)."""

    def __init__(
        self,
        store: ExperimentStore,
        refresh_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.refresh_seconds = settings().model_refresh_seconds if refresh_seconds is None else refresh_seconds
        self.clock = clock
        self._cached: dict[str, tuple[Experiment | None, float]] = {}
        self._listing: tuple[list[Experiment], float] | None = None
        self._lock = threading.Lock()

    def get(self, name: str) -> Experiment | None:
        with self._lock:
            now = self.clock()
            cached = self._cached.get(name)
            if cached is not None and now - cached[1] < self.refresh_seconds:
                return cached[0]
            try:
                found = self.store.get(name)
            except Exception:
                if cached is None:
                    raise
                logger.warning("experiment definition could not be read; serving the cached one")
                self._cached[name] = (cached[0], now)
                return cached[0]
            self._cached[name] = (found, now)
            return found

    def all(self) -> list[Experiment]:
        """Every definition (for the event consumer): the listing, re-read at most every
        `refresh_seconds`, with any definition read on its own since then (`get`, `find`) on top."""
        with self._lock:
            now = self.clock()
            if self._listing is None or now - self._listing[1] >= self.refresh_seconds:
                self._listing = (self.store.all(), now)
            listing, listed_at = self._listing
            merged = {experiment.name: experiment for experiment in listing}
            for name, (experiment, read_at) in self._cached.items():
                if experiment is not None and read_at >= listed_at:
                    merged[name] = experiment
            return list(merged.values())

    def find(self, name: str) -> Experiment | None:
        """`get`, but a name the cache holds as missing is read again at once (an experiment is created
        before anything names it, so a miss is a cache that has not caught up, or a bad name)."""
        with self._lock:
            cached = self._cached.get(name)
            if cached is not None and cached[0] is None:
                del self._cached[name]
        return self.get(name)

    def assign(self, experiment: str, user_id: str) -> Arm:
        if not user_id:
            raise InvalidInput("a user id is needed to assign an arm")
        found = self.get(experiment)
        if found is None:
            raise NotFound(f"experiment {experiment!r} is not defined")
        return arm_of(found, user_id)


class ModelsByArm:
    """One ModelLoader per pinned model version, so each arm's model is verified, cached and kept like any
    served model."""

    def __init__(self) -> None:
        self._loaders: dict[tuple[str, str], ModelLoader[Any]] = {}
        self._lock = threading.Lock()

    def get(self, arm: Arm, **loader_options: Any) -> LoadedModel[Any]:
        if arm.model is None:
            raise ValueError(f"arm {arm.name!r} of {arm.experiment!r} serves variant {arm.variant!r}, not a model")
        key = (arm.model.model, arm.model.version)
        with self._lock:
            loader = self._loaders.get(key)
            if loader is None:
                loader = self._loaders[key] = ModelLoader(arm.model.model, version=arm.model.version, **loader_options)
        return loader.get()

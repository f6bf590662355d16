"""Stages of a long task (a start-up, a build), shown as they go and timed.

On a terminal each running stage shows a spinner and its elapsed time (rich's live progress display);
every finished stage also prints one line with its duration, which is all that a log or CI sees. The
durations are kept (`Stages.timings`) so a caller can record them (`commerce-ai up` writes them to
`.commerce-ai/startup.json`).

A capability's `build` marks its own stages with `stage("label")`; outside a `Stages` display that is a
no-op, so builds run the same from tests and scripts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@dataclass(frozen=True)
class Timing:
    scope: str  # what the stage belongs to: "up", or a capability's name
    label: str
    seconds: float
    ok: bool


_active: ContextVar[tuple[Stages, str] | None] = ContextVar("active_stages", default=None)


@dataclass
class Stages:
    console: Console = field(default_factory=lambda: Console(highlight=False))
    timings: list[Timing] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._display = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )

    def __enter__(self) -> Stages:
        self._display.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._display.stop()

    def print(self, line: str) -> None:
        """A line above the live display (plain text: no markup, no wrapping)."""
        self._display.console.print(line, markup=False, soft_wrap=True)

    @contextmanager
    def stage(self, scope: str, label: str) -> Iterator[None]:
        """Time a stage; stages that `build` code opens inside it belong to the same scope."""
        task = self._display.add_task(f"{scope:<9} {label}", total=None)
        token = _active.set((self, scope))
        started = time.monotonic()
        ok = False
        try:
            yield
            ok = True
        finally:
            _active.reset(token)
            seconds = time.monotonic() - started
            self._display.remove_task(task)
            self.timings.append(Timing(scope, label, round(seconds, 2), ok))
            self.print(f"{scope:<9} {label:<44} {seconds:7.1f} s{'' if ok else '  FAILED'}")


@contextmanager
def stage(label: str) -> Iterator[None]:
    """A stage inside the current one (a build's own steps); nothing is shown outside a `Stages`."""
    active = _active.get()
    if active is None:
        yield
        return
    stages, scope = active
    with stages.stage(scope, label):
        yield

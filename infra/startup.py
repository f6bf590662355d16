"""What `commerce-ai up` does between bootstrap and the banner: choose the capabilities to run, build or
restore their missing models (model_build.cache), publish and activate them, seed, and say meanwhile,
through HealthTable's start-up item, what the stack still waits for (`GET /health` answers 503 until then).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import model_build
from commerce_ai import health
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.stream.schema import format_timestamp
from infra.template import ROOT, Function, Stack
from model_build.cache import BuildCache, fingerprint
from model_build.progress import Stages

# The platform's folders: served whatever `--only` names (the registry, the behaviour-event stream, the
# experiments and the shop's catalogue, which every capability builds on).
ALWAYS = frozenset({"registry", "stream", "experiments", "catalog"})
SEEDING = "seeding"


# ------------------------------------------------------------------------------------- selection


def function_folder(fn: Function) -> str:
    """The folder directly under functions/ that holds a function's code (an image function: its
    Dockerfile's); `functions/registry/docs/` is the registry's."""
    try:
        return fn.code_uri.resolve().relative_to(ROOT / "functions").parts[0]
    except ValueError:  # code outside functions/ (a test template's)
        return fn.code_uri.name


def belongs_to(fn: Function, capability: str) -> bool:
    """A function belongs to the capability whose folder holds its code: `functions/<capability>/`, or
    `functions/<capability>_<part>/` for one packaged apart (risk's challenger image)."""
    folder = function_folder(fn)
    return folder == capability or folder.startswith(capability + "_")


def known_capabilities(stack: Stack) -> set[str]:
    """Capabilities with a model build or with functions (a function's folder, without a `_part`)."""
    names = set(model_build.CAPABILITIES) | ALWAYS
    for fn in stack.functions():
        folder = function_folder(fn)
        if not any(folder == n or folder.startswith(n + "_") for n in names):
            names.add(folder)
    return names


def parse_only(text: str | None, stack: Stack) -> set[str] | None:
    """`--only pricing,risk` as a set of capability names (None: all); an unknown name is a ValueError."""
    if text is None:
        return None
    names = {n.strip() for n in text.split(",") if n.strip()}
    known = known_capabilities(stack)
    unknown = sorted(names - known)
    if unknown or not names:
        given = ", ".join(unknown) or "(none given)"
        raise ValueError(f"--only: unknown capability {given} (known: {', '.join(sorted(known))})")
    return names | ALWAYS


def selected_functions(stack: Stack, only: set[str] | None) -> set[str] | None:
    """Logical ids of the functions to serve (None: every one)."""
    if only is None:
        return None
    return {fn.logical_id for fn in stack.functions() if any(belongs_to(fn, c) for c in only)}


def selected_builds(only: set[str] | None) -> list[str]:
    return sorted(c for c in model_build.CAPABILITIES if only is None or c in only)


# ---------------------------------------------------------------------------------- the start-up


@dataclass
class Startup:
    """One `up`: what it waits for (mirrored into HealthTable) and where each model came from."""

    stack: Stack
    stages: Stages
    cache: BuildCache
    capabilities: list[str]
    waiting_for: list[str] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # model -> "cached", "built" or why it is missing

    def __post_init__(self) -> None:
        self.store = ArtifactStore(self.stack.physical_name("ArtifactBucket"))
        self.registry = ModelRegistry(self.stack.physical_name("ModelRegistryTable"))
        self.health_table = self.stack.physical_name("HealthTable")

    # -- readiness ---------------------------------------------------------------------------------

    def begin(self, build: bool) -> dict[str, list[str]]:
        """Record what this start-up waits for, before anything is served; the models to build."""
        missing = model_build.missing_models(self.store, self.capabilities) if build else {}
        self.waiting_for = [f"model {m}" for models in missing.values() for m in models]
        if any(hasattr(model_build.capability(c), "seed") for c in self.capabilities):
            self.waiting_for.append(SEEDING)
        self._publish_waiting()
        return missing

    def done_with(self, what: str) -> None:
        if what in self.waiting_for:
            self.waiting_for.remove(what)
            self._publish_waiting()

    def end(self) -> None:
        """Nothing left to wait for: the start-up item goes, and /health answers 200."""
        self.waiting_for = []
        self._publish_waiting()

    def _publish_waiting(self) -> None:
        health.set_startup(self.health_table, list(self.waiting_for))

    # -- models ------------------------------------------------------------------------------------

    def build_missing(self, missing: dict[str, list[str]], workdir: Path) -> None:
        """Restore from the cache, or build (and cache), each capability's missing models; publish them;
        activate first versions once validated."""
        published: list[str] = []
        for name, models in missing.items():
            built = self._built(name, workdir / name)
            if built is None:
                for model in models:
                    self.done_with(f"model {model}")
                continue
            with self.stages.stage(name, "publish"):
                for item in built:
                    if item.name in models:
                        manifest = model_build.publish(self.store, item)
                        published.append(manifest.name)
        self._activate_when_registered(published)

    def _built(self, name: str, workdir: Path) -> list[model_build.Built] | None:
        module = model_build.capability(name)
        with self.stages.stage(name, "fingerprint inputs, look in the cache"):
            fp = fingerprint(name, module)
            lookup = self.cache.lookup(fp)
        if lookup.built is not None:
            self.stages.print(f"{name:<9} cached build {fp.digest[:12]}: not retrained")
            self._record(lookup.built, "cached")
            return lookup.built
        self.stages.print(f"{name:<9} building ({lookup.reason})")
        try:
            with self.stages.stage(name, "build"):
                built = module.build(workdir)
        except Exception as exc:  # no data on this machine, say: the stack still runs, without these models
            self.stages.print(f"{name:<9} could not build ({type(exc).__name__}: {exc}); serving goes on without")
            for model in getattr(module, "MODELS", []):
                self.origins[model] = f"not built ({type(exc).__name__})"
            return None
        with self.stages.stage(name, "keep in the build cache"):
            cached = self.cache.store(fp, built)
        self._record(cached, "built")
        return cached

    def _record(self, built: Iterable[model_build.Built], origin: str) -> None:
        for item in built:
            self.origins[item.name] = origin

    def _activate_when_registered(self, names: list[str], timeout: float = 120.0) -> None:
        """First versions of new models are activated once the registry has validated them."""
        pending = set(names)
        deadline = time.monotonic() + timeout
        with self.stages.stage("up", "validate and activate models"):
            while pending and time.monotonic() < deadline:
                for name in sorted(pending):
                    versions = self.registry.versions(name)
                    if self.registry.active_version(name):
                        pending.discard(name)
                    elif any(v.state == "candidate" for v in versions):
                        newest = max(v.version for v in versions if v.state == "candidate")
                        self.registry.activate(name, newest)
                        self.stages.print(f"  activated {name}/{newest}")
                        pending.discard(name)
                    elif any(v.state == "quarantined" for v in versions):
                        self.stages.print(f"  {name}: quarantined by validation, not activated (GET /models/{name})")
                        self.origins[name] = "quarantined"
                        pending.discard(name)
                    else:
                        continue
                    self.done_with(f"model {name}")
                if pending:
                    time.sleep(0.25)
        for name in sorted(pending):
            self.stages.print(f"  {name}: not validated within {timeout:.0f}s; check .commerce-ai/logs")
            self.origins[name] = "not validated"
            self.done_with(f"model {name}")

    # -- seeding -----------------------------------------------------------------------------------

    def seed(self, cache_dir: Path) -> list[str]:
        with self.stages.stage("up", SEEDING):
            lines = model_build.seed_all(self.stack, cache_dir, self.capabilities)
        self.done_with(SEEDING)
        return lines


def write_timings(path: Path, stages: Stages, origins: dict[str, str], only: set[str] | None, **extra: Any) -> None:
    """The start-up's stage timings, for `make bench` and the README (`.commerce-ai/startup.json`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "finished_at": format_timestamp(datetime.now(UTC)),
        "only": sorted(only) if only is not None else None,
        "models": origins,
        "stages": [{"scope": t.scope, "stage": t.label, "seconds": t.seconds, "ok": t.ok} for t in stages.timings],
        **extra,
    }
    path.write_text(json.dumps(record, indent=1) + "\n")

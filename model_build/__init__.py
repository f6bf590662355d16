"""Offline training pipelines. Each capability is a sub-package `model_build/<capability>/` that exposes:

- `MODELS`: the model names it produces;
- `build(workdir: Path) -> list[Built]`: train, export (ONNX, booster, faiss...) and describe each model
  (it may take `data: Path` too: a user's own training file, `commerce-ai train <capability> --data F`);
- `build_inputs() -> dict[str, str]` (optional): what determines `build` besides code (data checksums,
  settings), part of the build cache's key (`model_build.cache`);
- `evaluate(report_dir: Path) -> Path` (optional): write `reports/<capability>.md`;
- `seed(stack: Stack, cache_dir: Path) -> str` (optional): fill the capability's tables from its active
  models or data once the stack is up (idempotent: it only adds what is missing); returns a status line.

Nothing registers it: every sub-package of `model_build` is a capability (`CAPABILITIES`, found from
the folders). Publishing, manifests and the registry are shared: see `publish`.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from commerce_ai.artifacts.manifest import (
    InputSchema,
    Manifest,
    TensorSpec,
    TrainingData,
    describe_files,
    new_version,
)
from commerce_ai.artifacts.store import ArtifactStore

ROOT = Path(__file__).resolve().parent.parent


def _discovered() -> dict[str, str]:
    """capability name -> module: each package directory beside this file (imported only when used)."""
    return {
        found.name: f"{__name__}.{found.name}"
        for found in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
        if found.ispkg
    }


CAPABILITIES: dict[str, str] = _discovered()


class TrainingDataProblem(ValueError):
    """Data a build cannot train on (too little, a malformed file): `commerce-ai train` prints the message,
    which names the data and what is wrong, and exits 2 instead of showing a traceback."""


@dataclass(frozen=True)
class Built:
    """One trained model, exported into `directory`, ready to be described by a manifest."""

    name: str
    directory: Path
    framework: str
    entrypoint: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    feature_names: list[str]
    training_data: TrainingData
    metrics: dict[str, float]


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def manifest_for(built: Built, version: str | None = None) -> Manifest:
    commit = git_commit()
    now = datetime.now(UTC)
    return Manifest(
        name=built.name,
        version=version or new_version(now, commit),
        created_at=now,
        git_commit=commit,
        framework=built.framework,  # type: ignore[arg-type]
        entrypoint=built.entrypoint,
        input_schema=InputSchema(tensors=built.inputs, feature_names=built.feature_names),
        output_schema=built.outputs,
        training_data=built.training_data,
        metrics=built.metrics,
        files=describe_files(built.directory),
    )


def publish(store: ArtifactStore, built: Built, version: str | None = None) -> Manifest:
    manifest = manifest_for(built, version)
    store.publish(manifest, built.directory)
    return manifest


def capability(name: str) -> ModuleType:
    if name not in CAPABILITIES:
        known = ", ".join(sorted(CAPABILITIES)) or "none yet"
        raise SystemExit(f"unknown capability {name!r} (known: {known})")
    return importlib.import_module(CAPABILITIES[name])


def missing_models(store: ArtifactStore, names: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Per capability (of `names`, default all), the models that have no version at all in the bucket."""
    present = {name for name, _ in store.manifest_keys()}
    missing: dict[str, list[str]] = {}
    for name in CAPABILITIES if names is None else names:
        models: list[Any] = list(getattr(capability(name), "MODELS", []))
        absent = [m for m in models if m not in present]
        if absent:
            missing[name] = absent
    return missing


def seed_all(stack: Any, cache_dir: Path, names: Iterable[str] | None = None) -> list[str]:
    """Run every capability's (of `names`, default all) `seed`; one status line each."""
    lines = []
    for name in CAPABILITIES if names is None else names:
        seed = getattr(capability(name), "seed", None)
        if seed is not None:
            lines.append(seed(stack, cache_dir))
    return lines

"""The local build cache: what `commerce-ai up` built, kept so that the next `up` publishes it again
instead of retraining.

An entry is keyed by a capability's *fingerprint*, a sha256 over everything that determines its build:

- `source:<path>`: every project source file that `build` can reach. Found statically: the imports of the
  capability package's module level and of its `build` function, then every project module those import,
  transitively (lazy imports inside functions included, `if TYPE_CHECKING:` imports left out), plus the
  packages' `__init__` files. Project modules are those under pyproject's `package-dir`.
- `library:<module>`: the installed distribution and version of every third-party module that the
  capability's own training files (`model_build/<capability>/`) among those import (lightgbm, onnx...).
- `python`: the interpreter's major.minor.
- whatever the capability declares in an optional `build_inputs() -> dict[str, str]`: its data files'
  checksums (`data:...`) and build settings (`setting:...`), which are not source code.

An entry is a directory `<root>/<capability>/<fingerprint>/` with one sub-directory per model (its files)
and `entry.json` (written last) describing each model and its files' sha256. A lookup verifies every
file; an entry that does not verify is deleted and reported as a miss, so it is rebuilt, never published.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import json
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from commerce_ai.artifacts.manifest import FileEntry, TensorSpec, TrainingData, describe_files
from model_build import ROOT, Built, capability

FORMAT = 1
ENTRY_FILE = "entry.json"
KEEP_PER_CAPABILITY = 3  # older entries are pruned (switching between branches still finds its builds)


# ------------------------------------------------------------------------------------ fingerprints


@dataclass(frozen=True)
class Fingerprint:
    capability: str
    inputs: Mapping[str, str]  # input name -> its sha256, version or value

    @property
    def digest(self) -> str:
        canonical = json.dumps({"format": FORMAT, "inputs": dict(self.inputs)}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(name: str, module: ModuleType | None = None, root: Path = ROOT) -> Fingerprint:
    """The fingerprint of capability `name`'s default build (`build(workdir)` without a data file)."""
    module = module or capability(name)
    assert module.__file__ is not None
    graph = ImportGraph(root)
    files, libraries = graph.closure(Path(module.__file__), own=Path(module.__file__).parent)
    inputs: dict[str, str] = {f"source:{p.relative_to(root).as_posix()}": _sha256(p) for p in files}
    inputs.update({f"library:{m}": installed_version(m) for m in libraries})
    inputs["python"] = f"{sys.version_info.major}.{sys.version_info.minor}"
    declared = getattr(module, "build_inputs", None)
    if declared is not None:
        inputs.update({str(k): str(v) for k, v in declared().items()})
    return Fingerprint(name, inputs)


def changed_inputs(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """The names of the inputs that differ (added, removed or changed), sorted."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def _distributions() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def installed_version(module: str) -> str:
    """`<distribution> <version>` of the distribution that provides top-level `module`, or `absent`."""
    names = _distributions().get(module) or []
    found = []
    for dist in sorted(set(names)):
        try:
            found.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return ", ".join(found) or "absent"


@dataclass
class ImportGraph:
    """Static imports between the project's source files (no module is imported to find them)."""

    root: Path
    package_dirs: dict[str, Path] = field(init=False)

    def __post_init__(self) -> None:
        setuptools = tomllib.loads((self.root / "pyproject.toml").read_text())["tool"]["setuptools"]
        self.package_dirs = {name: self.root / path for name, path in setuptools["package-dir"].items()}

    def module_name(self, path: Path) -> str:
        for package, directory in self.package_dirs.items():
            if path.is_relative_to(directory):
                parts = list(path.relative_to(directory).with_suffix("").parts)
                if parts and parts[-1] == "__init__":
                    parts.pop()
                return ".".join([package, *parts])
        raise ValueError(f"{path} is not in a project package")

    def source_file(self, module: str) -> Path | None:
        """The project file of `module` (a package's `__init__.py`), or None for anything else."""
        top, *rest = module.split(".")
        if top not in self.package_dirs:
            return None
        base = self.package_dirs[top].joinpath(*rest)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def closure(self, entry: Path, own: Path) -> tuple[list[Path], list[str]]:
        """Project files reachable from `entry`'s module level and its `build`, and the third-party
        top-level modules that the files under `own` (the capability's training package) import."""
        # The entry is only ever read partly: its `evaluate` (reports, studies) does not make the build.
        visited: set[Path] = {entry}
        pending = self._imports(entry, functions={"build", "build_inputs"})
        libraries = {m.split(".")[0] for m in pending if self.source_file(m) is None}
        while pending:
            module = pending.pop()
            parts = module.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
                path = self.source_file(".".join(parts[:depth]))
                if path is None or path in visited:
                    continue
                visited.add(path)
                imported = self._imports(path)
                if path.is_relative_to(own):
                    libraries.update(m.split(".")[0] for m in imported if self.source_file(m) is None)
                pending.extend(imported)
        third_party = {m for m in libraries if m and m not in sys.stdlib_module_names and m not in self.package_dirs}
        return sorted(visited), sorted(third_party)

    def _imports(self, path: Path, functions: set[str] | None = None) -> list[str]:
        """Modules `path` imports; with `functions`, only its module level and those functions' bodies."""
        tree = ast.parse(path.read_text(), filename=str(path))
        package = self.module_name(path)
        if path.name != "__init__.py":
            package = package.rpartition(".")[0]
        found: list[str] = []
        _collect(tree.body, package, self, functions, found)
        return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _collect(
    body: Iterable[ast.stmt], package: str, graph: ImportGraph, functions: set[str] | None, found: list[str]
) -> None:
    for node in body:
        if isinstance(node, ast.If) and _type_checking_only(node):
            _collect(node.orelse, package, graph, functions, found)
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and functions is not None:
            if node.name in functions:
                _collect(node.body, package, graph, None, found)
            continue
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append(base)
            # `from package import module` imports a module, not only a name.
            found.extend(f"{base}.{a.name}" for a in node.names if graph.source_file(f"{base}.{a.name}"))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                _collect([child], package, graph, functions, found)
            else:
                _collect(_statements_in(child), package, graph, functions, found)


def _statements_in(node: ast.AST) -> list[ast.stmt]:
    """Statements nested in an expression-level node (a handler's body, a match case...)."""
    return [n for n in ast.iter_child_nodes(node) if isinstance(n, ast.stmt)]


# ------------------------------------------------------------------------------------------- entries


class CachedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    framework: str
    entrypoint: str
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    feature_names: list[str]
    training_data: TrainingData
    metrics: dict[str, float]
    files: dict[str, FileEntry]


class CacheEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int
    capability: str
    fingerprint: str
    created_at: datetime
    inputs: dict[str, str]
    models: list[CachedModel]


@dataclass(frozen=True)
class Lookup:
    """A cache lookup: the cached models on a hit, else None and why (to say what is rebuilt and why)."""

    built: list[Built] | None
    reason: str


@dataclass(frozen=True)
class BuildCache:
    root: Path

    def _directory(self, fp: Fingerprint) -> Path:
        return self.root / fp.capability / fp.digest

    def lookup(self, fp: Fingerprint) -> Lookup:
        directory = self._directory(fp)
        if not (directory / ENTRY_FILE).is_file():
            previous = self.latest(fp.capability)
            if previous is None:
                return Lookup(None, "not built before")
            changed = changed_inputs(previous.inputs, fp.inputs)
            shown = ", ".join(changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
            return Lookup(None, f"changed since the last build: {shown}")
        try:
            entry = CacheEntry.model_validate_json((directory / ENTRY_FILE).read_text())
            problem = _problem(entry, fp, directory)
        except (OSError, ValueError, ValidationError) as exc:
            problem = f"unreadable entry ({type(exc).__name__})"
        if problem:
            shutil.rmtree(directory, ignore_errors=True)
            return Lookup(None, f"cached build discarded: {problem}")
        return Lookup([_built(model, directory / model.name) for model in entry.models], "cached")

    def store(self, fp: Fingerprint, built: list[Built]) -> list[Built]:
        """Copy `built` into the cache under `fp` (replacing an entry there); the cached copies."""
        parent = self.root / fp.capability
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
        try:
            models = []
            for item in built:
                shutil.copytree(item.directory, staging / item.name)
                models.append(_cached_model(item, staging / item.name))
            entry = CacheEntry(
                format=FORMAT,
                capability=fp.capability,
                fingerprint=fp.digest,
                created_at=datetime.now(UTC),
                inputs=dict(fp.inputs),
                models=models,
            )
            (staging / ENTRY_FILE).write_text(entry.model_dump_json(indent=1))
            target = self._directory(fp)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(fp.capability)
        return [_built(model, target / model.name) for model in entry.models]

    def latest(self, name: str) -> CacheEntry | None:
        for entry_file in self._entries(name):
            try:
                return CacheEntry.model_validate_json(entry_file.read_text())
            except (OSError, ValueError, ValidationError):
                continue
        return None

    def _entries(self, name: str) -> list[Path]:
        """Entry files of a capability, newest first."""
        directory = self.root / name
        if not directory.is_dir():
            return []
        found = [d / ENTRY_FILE for d in directory.iterdir() if (d / ENTRY_FILE).is_file()]
        return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def _prune(self, name: str) -> None:
        for old in self._entries(name)[KEEP_PER_CAPABILITY:]:
            shutil.rmtree(old.parent, ignore_errors=True)


def _problem(entry: CacheEntry, fp: Fingerprint, directory: Path) -> str | None:
    if entry.format != FORMAT or entry.fingerprint != fp.digest or entry.capability != fp.capability:
        return "its entry does not match its key"
    for model in entry.models:
        model_dir = directory / model.name
        if not model_dir.is_dir():
            return f"{model.name} is missing"
        if describe_files(model_dir) != model.files:
            return f"{model.name}'s files do not match their checksums"
    return None


def _cached_model(item: Built, directory: Path) -> CachedModel:
    return CachedModel(
        name=item.name,
        framework=item.framework,
        entrypoint=item.entrypoint,
        inputs=item.inputs,
        outputs=item.outputs,
        feature_names=item.feature_names,
        training_data=item.training_data,
        metrics=item.metrics,
        files=describe_files(directory),
    )


def _built(model: CachedModel, directory: Path) -> Built:
    fields: dict[str, Any] = model.model_dump(exclude={"files"})
    fields.update(inputs=model.inputs, outputs=model.outputs, training_data=model.training_data)
    return Built(directory=directory, **fields)

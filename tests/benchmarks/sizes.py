"""Deployment size per function: its CodeUri plus every layer it gets (Globals + its own), unzipped.

Each layer is built the way `sam build` builds a python layer: its requirements.txt installed for the
Lambda platform (manylinux wheels, CPython of the runtime's version, binary only) into `python/`, plus
the layer's own packages. Builds are cached under build/layers/<LayerId>/, keyed by a hash of the
requirements file and the build recipe, so only the first run (or a changed requirements.txt) installs.

Two totals per function: as built, and minus the boto3 stack that the Lambda Python runtime already
provides (counted only when a dependency pulled it in). Figures are ratios to Lambda's 250 MB unzipped
hard limit and, for inference functions (those with the ml layer), to the project's 120 MB goal.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.template import Function, Stack
from tests.benchmarks._report import Report, fmt_ratio, heading, table

ROOT = Path(__file__).resolve().parents[2]
LAYER_BUILD_DIR = ROOT / "build" / "layers"
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # bytes; AWS counts function + layers, unzipped
INFERENCE_GOAL = 120 * 1024 * 1024
ML_LAYER = "MlLayer"
# Shipped by the Lambda Python runtime itself (boto3 and its dependency closure).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
RECIPE_VERSION = "1"  # bump to invalidate every cached layer build
_PIP_NOISE = re.compile(r"^(WARNING: )?Location '.*' is ignored", re.IGNORECASE)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def fmt_mb(size: float) -> str:
    """MB as AWS counts its layer and function limits: 2^20 bytes (kB below one MB)."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size / (1024 * 1024):.1f} MB"


@dataclass
class LayerBuild:
    logical_id: str
    source: Path
    target: Path  # .../python, what /opt/python holds on Lambda
    platforms: list[str]
    lambda_compatible: bool  # False when only wheels newer than the runtime's glibc could be found
    pip_error: str | None
    cached: bool
    package_sizes: dict[str, int] = field(default_factory=dict)  # distribution (or package dir) -> bytes

    @property
    def total(self) -> int:
        return sum(self.package_sizes.values())

    @property
    def runtime_provided(self) -> int:
        return sum(size for name, size in self.package_sizes.items() if name in RUNTIME_PROVIDED)


def _lambda_target(props: dict[str, Any], metadata: dict[str, Any], runtime: str) -> tuple[str, str]:
    """(python version like '3.11', manylinux arch) of the layer's build."""
    build_method = str(metadata.get("BuildMethod") or runtime)
    match = re.fullmatch(r"python(\d+\.\d+)", build_method)
    if not match:
        raise ValueError(f"layer build method {build_method!r} is not a python runtime")
    arch = str(metadata.get("BuildArchitecture") or (props.get("CompatibleArchitectures") or ["x86_64"])[0])
    return match.group(1), {"x86_64": "x86_64", "arm64": "aarch64"}[arch]


def _pip_install(requirements: Path, target: Path, python_version: str, platforms: list[str]) -> str | None:
    """Install for Lambda into `target`; None on success, else pip's error lines (noise filtered)."""
    argv = [sys.executable, "-m", "pip", "install", "-r", str(requirements), "--target", str(target),
            "--implementation", "cp", "--python-version", python_version, "--only-binary=:all:",
            "--quiet", "--no-compile", "--disable-pip-version-check"]
    for platform in platforms:
        argv += ["--platform", platform]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    output = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip() and not _PIP_NOISE.match(line)]
    if proc.returncode == 0:
        for line in output:  # anything pip still has to say after filtering
            print(f"    pip: {line}")
        return None
    errors = [line for line in output if line.startswith("ERROR")] or output[-5:]
    return "\n".join(errors) or f"pip exited {proc.returncode}"


def _copy_packages(source: Path, target: Path) -> list[str]:
    """The layer's own importable packages (dirs with __init__.py), as `sam build` copies them."""
    copied = []
    for package in sorted(p.parent for p in source.glob("*/__init__.py")):
        destination = target / package.name
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(package, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        copied.append(package.name)
    return copied


def build_layer(stack: Stack, logical_id: str, runtime: str) -> LayerBuild:
    resource = stack.resources[logical_id]
    props = resource.get("Properties") or {}
    python_version, arch = _lambda_target(props, resource.get("Metadata") or {}, runtime)
    source = (stack.root / str(props["ContentUri"])).resolve()
    requirements = source / "requirements.txt"
    out_dir = LAYER_BUILD_DIR / logical_id
    target = out_dir / "python"
    stamp_file = out_dir / "stamp.json"
    strict = [f"manylinux2014_{arch}"]  # glibc 2.17: what Amazon Linux 2 (python3.8-3.11) can load
    recipe = json.dumps([RECIPE_VERSION, python_version, strict], sort_keys=True)
    key = hashlib.sha256(recipe.encode() + (requirements.read_bytes() if requirements.is_file() else b"")).hexdigest()
    stamp: dict[str, Any] = {}
    if stamp_file.is_file():
        stamp = json.loads(stamp_file.read_text())
    cached = stamp.get("key") == key and target.is_dir()
    if not cached:
        print(f"  building {logical_id} ({source.relative_to(stack.root)}) for python{python_version} {arch} ...",
              flush=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        staging = out_dir / "python.partial"
        staging.mkdir(parents=True)
        platforms, error, compatible = strict, None, True
        if requirements.is_file():
            error = _pip_install(requirements, staging, python_version, strict)
            if error is not None:
                # What sam build would stop on. Still size the layer with the newest manylinux wheels.
                shutil.rmtree(staging)
                staging.mkdir()
                platforms = [*strict, f"manylinux_2_28_{arch}"]
                fallback_error = _pip_install(requirements, staging, python_version, platforms)
                if fallback_error is not None:
                    raise RuntimeError(f"{logical_id}: pip install failed:\n{error}\n(fallback)\n{fallback_error}")
                compatible = False
        staging.rename(target)
        stamp = {"key": key, "platforms": platforms, "lambda_compatible": compatible, "pip_error": error}
        stamp_file.write_text(json.dumps(stamp, indent=2))
    own = _copy_packages(source, target)
    build = LayerBuild(
        logical_id=logical_id,
        source=source,
        target=target,
        platforms=list(stamp["platforms"]),
        lambda_compatible=bool(stamp["lambda_compatible"]),
        pip_error=stamp.get("pip_error"),
        cached=cached,
    )
    build.package_sizes = package_sizes(target, own)
    return build


def _owners(root: Path) -> dict[str, str]:
    """Relative file path -> canonical distribution name, from every installed RECORD."""
    owners: dict[str, str] = {}
    for record in root.glob("*.dist-info/RECORD"):
        name = record.parent.name.split("-")[0]
        metadata = record.parent / "METADATA"
        if metadata.is_file():
            for line in metadata.read_text(errors="replace").splitlines():
                if line.startswith("Name:"):
                    name = line.split(":", 1)[1].strip()
                    break
                if not line:
                    break
        with record.open(newline="") as handle:
            for row in csv.reader(handle):
                if row:
                    path = row[0]
                    while path.startswith("../"):  # console scripts: ../../bin/x lands in <target>/bin/x
                        path = path[3:]
                    owners[path] = canonical(name)
    return owners


def package_sizes(root: Path, own_packages: list[str] | None = None) -> dict[str, int]:
    """Bytes per distribution under `root` (files outside every RECORD go by their top-level name)."""
    owners = _owners(root)
    own = set(own_packages or [])
    sizes: dict[str, int] = defaultdict(int)
    for path in root.rglob("*"):
        if "__pycache__" in path.parts or path.is_symlink() or not path.is_file():
            continue
        relative = path.relative_to(root).as_posix()
        top = relative.split("/", 1)[0]
        name = owners.get(relative) or (f"{top} (layer source)" if top in own else f"{top} (unowned)")
        sizes[name] += path.stat().st_size
    return dict(sizes)


def _requires(root: Path) -> dict[str, set[str]]:
    """Installed distribution -> the installed distributions it requires on Lambda's platform."""
    from packaging.requirements import InvalidRequirement, Requirement

    environment = {"python_version": "3.11", "sys_platform": "linux", "platform_system": "Linux",
                   "platform_machine": "x86_64", "implementation_name": "cpython", "extra": ""}
    graph: dict[str, set[str]] = {}
    for metadata in root.glob("*.dist-info/METADATA"):
        name, deps = None, set()
        for line in metadata.read_text(errors="replace").splitlines():
            if not line:
                break  # end of headers
            if line.startswith("Name:"):
                name = canonical(line.split(":", 1)[1].strip())
            elif line.startswith("Requires-Dist:"):
                try:
                    req = Requirement(line.split(":", 1)[1].strip())
                except InvalidRequirement:
                    continue
                if req.marker is None or req.marker.evaluate(environment):
                    deps.add(canonical(req.name))
        if name:
            graph[name] = deps
    return graph


def requirement_closures(build: LayerBuild) -> list[tuple[str, int, int, list[str]]]:
    """Per top-level requirement: (name, closure bytes, bytes no other requirement needs, closure names)."""
    from packaging.requirements import InvalidRequirement, Requirement

    requirements = build.source / "requirements.txt"
    if not requirements.is_file():
        return []
    tops = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            tops.append(canonical(Requirement(line).name))
        except InvalidRequirement:
            continue
    graph = _requires(build.target)
    closures: dict[str, set[str]] = {}
    for top in tops:
        seen, todo = set(), [top]
        while todo:
            name = todo.pop()
            if name in seen or name not in graph:
                continue
            seen.add(name)
            todo.extend(graph[name])
        closures[top] = seen
    result = []
    for top, closure in closures.items():
        others = set().union(*(c for t, c in closures.items() if t != top))
        size = sum(build.package_sizes.get(n, 0) for n in closure)
        exclusive = sum(build.package_sizes.get(n, 0) for n in closure - others)
        result.append((top, size, exclusive, sorted(closure - {top})))
    return result


def _names(names: list[str], width: int = 60) -> str:
    shown: list[str] = []
    for i, name in enumerate(names):
        if len(", ".join([*shown, name])) > width:
            return ", ".join(shown) + f" (+{len(names) - i} more)"
        shown.append(name)
    return ", ".join(shown) or "-"


def code_size(directory: Path) -> int:
    return sum(
        p.stat().st_size
        for p in directory.rglob("*")
        if "__pycache__" not in p.parts and not p.is_symlink() and p.is_file()
    )


def _is_inference(fn: Function) -> bool:
    return ML_LAYER in fn.layers


def run(report: Report, stack: Stack | None = None) -> None:
    heading("1. DEPLOYMENT SIZE PER FUNCTION (unzipped: CodeUri + layers, as `sam build` would lay them out)")
    stack = stack or Stack()
    functions = stack.functions()
    layers: dict[str, LayerBuild] = {}
    for fn in functions:
        if fn.code_uri.joinpath("requirements.txt").is_file():
            report.problem(f"{fn.logical_id}: {fn.code_uri}/requirements.txt is not sized by this benchmark")
        for layer in fn.layers:
            if layer not in layers:
                layers[layer] = build_layer(stack, layer, fn.runtime)

    for build in layers.values():
        status = "cached" if build.cached else "built"
        print(f"\n  {build.logical_id}: {fmt_mb(build.total)} as built, "
              f"{fmt_mb(build.total - build.runtime_provided)} minus runtime-provided boto3 stack "
              f"({status}: {build.target.relative_to(ROOT)}; wheels for {', '.join(build.platforms)})")
        biggest = sorted(build.package_sizes.items(), key=lambda item: -item[1])[:5]
        print(table(
            ["biggest packages", "size", "share", "note"],
            [[name, fmt_mb(size), f"{size / build.total:.0%}",
              "provided by the Lambda runtime" if name in RUNTIME_PROVIDED else ""] for name, size in biggest],
            indent="    ",
        ))
        try:
            closures = requirement_closures(build)
        except ImportError:  # `packaging` comes with the dev tools; the table is optional
            closures = []
        if closures:
            print(table(
                ["requirements.txt entry", "with its deps", "only for it", "pulls in"],
                [[top, fmt_mb(size), fmt_mb(exclusive), _names(deps)]
                 for top, size, exclusive, deps in sorted(closures, key=lambda c: -c[1])],
                indent="    ", left=(0, 3),
            ))
        provided = sorted(n for n in build.package_sizes if n in RUNTIME_PROVIDED)
        if provided:
            print(f"    runtime-provided packages pulled in as dependencies: {', '.join(provided)} "
                  f"({fmt_mb(build.runtime_provided)})")
        if not build.lambda_compatible:
            report.problem(
                f"{build.logical_id} ({build.source.relative_to(ROOT)}/requirements.txt) has no "
                f"{build.platforms[0]} wheels for the template's runtime, so `sam build` fails: "
                f"{build.pip_error.splitlines()[0] if build.pip_error else '?'}. Sized with "
                f"{build.platforms[-1]} wheels instead, which need glibc 2.28 and will not import on "
                "python3.11 (Amazon Linux 2, glibc 2.26)."
            )

    rows = []
    for fn in functions:
        code = code_size(fn.code_uri)
        built = code + sum(layers[layer].total for layer in fn.layers)
        lean = built - sum(layers[layer].runtime_provided for layer in fn.layers)
        inference = _is_inference(fn)
        limit_ratio, lean_limit_ratio = built / LAMBDA_UNZIPPED_LIMIT, lean / LAMBDA_UNZIPPED_LIMIT
        goal_ratio = lean / INFERENCE_GOAL if inference else None
        if built > LAMBDA_UNZIPPED_LIMIT:
            status = "OVER 250 MB LIMIT"
        elif inference and lean > INFERENCE_GOAL:
            status = "over 120 MB goal"
        else:
            status = "ok"
        caveat = "" if all(layers[layer].lambda_compatible for layer in fn.layers) else " *"
        rows.append([
            fn.logical_id + caveat, "+".join(["code", *fn.layers]), fmt_mb(code), fmt_mb(built),
            fmt_ratio(limit_ratio), fmt_mb(lean), fmt_ratio(lean_limit_ratio), fmt_ratio(goal_ratio), status,
        ])
        note = f"{status}; minus boto3 stack {fmt_mb(lean)} = {fmt_ratio(lean_limit_ratio)} of 250 MB"
        if goal_ratio is not None:
            note += f", {fmt_ratio(goal_ratio)} of the 120 MB inference goal"
        report.add("size", f"{fn.logical_id} unzipped{caveat}", fmt_mb(built), "250 MB Lambda limit",
                   limit_ratio, note)
    print("\n  Per function (MB = 2^20 bytes, as AWS counts the 250 MB limit)")
    print(table(
        ["function", "contents", "code", "as built", "/250 MB", "minus boto3", "/250 MB", "/120 MB goal",
         "status"],
        rows,
    ))
    if any(not b.lambda_compatible for b in layers.values()):
        print("  * a layer could only be sized with wheels the python3.11 runtime cannot load (see findings)")
    print("  The 120 MB goal applies to inference functions (with MlLayer) and is compared without the "
          "runtime-provided boto3 stack.")

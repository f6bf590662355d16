"""Deployment size per function: its CodeUri plus every layer it gets (Globals + its own), unzipped.

Each layer is built the way `sam build` builds it, into build/layers/<LayerId>/ (what /opt holds on
Lambda), and cached there:
- `BuildMethod: python3.x`: requirements.txt installed for the Lambda platform (manylinux wheels the
  runtime's glibc can load, CPython of that version, binary only) into python/, plus the layer's own
  packages; cached by a hash of requirements.txt and the recipe;
- `BuildMethod: makefile`: `make build-<LayerId> ARTIFACTS_DIR=...` in the layer dir, as sam runs it;
  cached by a hash of every file in the layer dir.

Two totals per function: as built, and minus the boto3 stack that the Lambda Python runtime already
provides (counted only when a dependency pulled it in). Figures are ratios to Lambda's 250 MB unzipped
hard limit and, for inference functions (those with the ml or visual layer), to the project's 120 MB goal. Every
installed wheel's tags are checked against each function's runtime (Python version and glibc).
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
# Layers that carry an inference runtime: a function with one is held to the 120 MB goal.
INFERENCE_LAYERS = {ML_LAYER, "VisualLayer"}
# Shipped by the Lambda Python runtime itself (boto3 and its dependency closure).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
RECIPE_VERSION = "2"  # bump to invalidate every cached layer build
_PIP_NOISE = re.compile(r"^(WARNING: )?Location '.*' is ignored", re.IGNORECASE)


def fmt_mb(size: float) -> str:
    """MB as AWS counts its layer and function limits: 2^20 bytes (kB below one MB)."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} kB"
    return f"{size / (1024 * 1024):.1f} MB"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# -- the Lambda platform ---------------------------------------------------------------------------


def python_version(runtime: str) -> tuple[int, int]:
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    if not match:
        raise ValueError(f"{runtime!r} is not a Lambda Python runtime")
    return int(match.group(1)), int(match.group(2))


def runtime_glibc(runtime: str) -> tuple[int, int]:
    """glibc of the runtime's OS: Amazon Linux 2 for python3.8-3.11, Amazon Linux 2023 from python3.12."""
    version = python_version(runtime)
    if version < (3, 8):
        return (2, 17)
    return (2, 26) if version < (3, 12) else (2, 34)


def runtime_os(runtime: str) -> str:
    return "Amazon Linux 2" if python_version(runtime) < (3, 12) else "Amazon Linux 2023"


def _arch(name: str) -> str:
    return {"x86_64": "x86_64", "arm64": "aarch64"}[name]


def sam_platforms(runtime: str, arch: str) -> list[str]:
    """The wheel platforms `sam build` accepts for a runtime: manylinux2014 on Amazon Linux 2 (lambda-builders
    knows no newer tag there), and every manylinux up to the OS's glibc on Amazon Linux 2023."""
    if python_version(runtime) < (3, 12):
        return [f"manylinux2014_{arch}"]
    return loadable_platforms(runtime, arch)


def loadable_platforms(runtime: str, arch: str) -> list[str]:
    glibc = runtime_glibc(runtime)
    return [f"manylinux2014_{arch}"] + [f"manylinux_2_{minor}_{arch}" for minor in range(18, glibc[1] + 1)]


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def tag_loads_on(tag: str, runtime: str, arch: str) -> bool:
    """Whether a wheel tag (e.g. cp311-cp311-manylinux_2_28_x86_64) can be imported on the runtime."""
    try:
        interpreter, abi, platform = tag.split("-")
    except ValueError:
        return False
    major, minor = python_version(runtime)
    if interpreter.startswith("cp"):
        wanted = int(interpreter[2:3]), int(interpreter[3:] or 0)
        if not (wanted == (major, minor) or (abi == "abi3" and wanted <= (major, minor))):
            return False
    elif not interpreter.startswith("py"):
        return False
    if platform == "any":
        return True
    if not platform.endswith("_" + arch):
        return False
    base = platform[: -len(arch) - 1]
    legacy = _LEGACY_MANYLINUX.get(base)
    if legacy is not None:
        return legacy <= runtime_glibc(runtime)
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)", base)
    if match is None:
        return False  # linux_x86_64, musllinux...: not loadable on Amazon Linux
    return (int(match.group(1)), int(match.group(2))) <= runtime_glibc(runtime)


def min_glibc(tags: list[str]) -> str:
    found = []
    for tag in tags:
        platform = tag.rsplit("-", 1)[-1]
        for legacy, version in _LEGACY_MANYLINUX.items():
            if platform.startswith(legacy + "_"):
                found.append(version)
        match = re.match(r"manylinux_(\d+)_(\d+)_", platform)
        if match:
            found.append((int(match.group(1)), int(match.group(2))))
    return ".".join(map(str, min(found))) if found else "?"


# -- building --------------------------------------------------------------------------------------


@dataclass
class LayerBuild:
    logical_id: str
    source: Path
    root: Path  # what /opt holds on Lambda
    method: str
    cached: bool
    platforms: list[str] | None = None  # for python3.x builds: the wheel platforms the build used
    sam_error: str | None = None  # what `sam build` itself stops on, if anything
    package_sizes: dict[str, int] = field(default_factory=dict)  # distribution (or package dir) -> bytes
    wheel_tags: dict[str, list[str]] = field(default_factory=dict)  # distribution -> its WHEEL tags

    @property
    def python_dir(self) -> Path:
        return self.root / "python"

    @property
    def total(self) -> int:
        return sum(self.package_sizes.values())

    @property
    def runtime_provided(self) -> int:
        return sum(size for name, size in self.package_sizes.items() if name in RUNTIME_PROVIDED)

    def unloadable(self, runtime: str, arch: str) -> list[str]:
        """Installed distributions with no wheel tag that `runtime` can import."""
        return sorted(
            name for name, tags in self.wheel_tags.items() if not any(tag_loads_on(t, runtime, arch) for t in tags)
        )


def _run_quiet(argv: list[str], **kwargs: Any) -> tuple[int, list[str]]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900, **kwargs)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip() and not _PIP_NOISE.match(line)]
    return proc.returncode, lines


def _pip_install(requirements: Path, target: Path, version: tuple[int, int], platforms: list[str]) -> str | None:
    """Install for Lambda into `target`; None on success, else pip's error lines (noise filtered)."""
    argv = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-r",
        str(requirements),
        "--target",
        str(target),
        "--implementation",
        "cp",
        "--python-version",
        "{}.{}".format(*version),
        "--only-binary=:all:",
        "--quiet",
        "--no-compile",
        "--disable-pip-version-check",
    ]
    for platform in platforms:
        argv += ["--platform", platform]
    code, output = _run_quiet(argv)
    if code == 0:
        for line in output:  # anything pip still has to say after filtering
            print(f"    pip: {line}")
        return None
    errors = [line for line in output if line.startswith("ERROR")] or output[-5:]
    return "\n".join(errors) or f"pip exited {code}"


def _copy_packages(source: Path, target: Path) -> None:
    """The layer's own importable packages (dirs with __init__.py), as `sam build` copies them."""
    for package in sorted(p.parent for p in source.glob("*/__init__.py")):
        destination = target / package.name
        shutil.rmtree(destination, ignore_errors=True)
        shutil.copytree(package, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _tree_digest(directory: Path) -> bytes:
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _build_python(logical_id: str, source: Path, staging: Path, runtime: str, arch: str) -> dict[str, Any]:
    requirements = source / "requirements.txt"
    python_dir = staging / "python"
    python_dir.mkdir(parents=True)
    strict = sam_platforms(runtime, arch)
    if not requirements.is_file():
        return {"platforms": strict, "sam_error": None}
    error = _pip_install(requirements, python_dir, python_version(runtime), strict)
    if error is None:
        return {"platforms": strict, "sam_error": None}
    # What sam build would stop on. Still size the layer, with wheels for the newest Lambda OS.
    fallback = loadable_platforms("python3.12", arch)
    if fallback == strict:
        raise RuntimeError(f"{logical_id}: pip install failed:\n{error}")
    shutil.rmtree(python_dir)
    python_dir.mkdir()
    fallback_error = _pip_install(requirements, python_dir, python_version(runtime), fallback)
    if fallback_error is not None:
        raise RuntimeError(f"{logical_id}: pip install failed:\n{error}\n(with newer manylinux)\n{fallback_error}")
    return {"platforms": fallback, "sam_error": error}


def _build_makefile(logical_id: str, source: Path, staging: Path) -> dict[str, Any]:
    if not (source / "Makefile").is_file():
        raise RuntimeError(f"{logical_id}: BuildMethod makefile but {source}/Makefile does not exist")
    if shutil.which("make") is None:
        raise RuntimeError(f"{logical_id}: BuildMethod makefile needs `make`, which is not installed")
    staging.mkdir(parents=True)
    # As sam runs it: the build-<LogicalId> target, ARTIFACTS_DIR pointing at the layer's root.
    argv = [
        "make",
        "--no-print-directory",
        "-C",
        str(source),
        f"build-{logical_id}",
        f"ARTIFACTS_DIR={staging}",
        f"PYTHON={sys.executable}",
    ]
    code, output = _run_quiet(argv)
    if code != 0:
        raise RuntimeError(f"{logical_id}: `make build-{logical_id}` failed ({code}):\n" + "\n".join(output[-15:]))
    return {"platforms": None, "sam_error": None}


def build_layer(stack: Stack, logical_id: str, runtime: str) -> LayerBuild:
    resource = stack.resources[logical_id]
    props = resource.get("Properties") or {}
    metadata = resource.get("Metadata") or {}
    source = (stack.root / str(props["ContentUri"])).resolve()
    method = str(metadata.get("BuildMethod") or runtime)
    arch = _arch(str(metadata.get("BuildArchitecture") or (props.get("CompatibleArchitectures") or ["x86_64"])[0]))
    root = LAYER_BUILD_DIR / logical_id
    stamp_file = LAYER_BUILD_DIR / f"{logical_id}.json"
    if method == "makefile":
        key_material = _tree_digest(source)
    elif method.startswith("python"):
        requirements = source / "requirements.txt"
        key_material = requirements.read_bytes() if requirements.is_file() else b""
    else:
        raise ValueError(f"{logical_id}: BuildMethod {method!r} is not supported by the size benchmark")
    recipe = json.dumps([RECIPE_VERSION, method, arch, sys.version_info[:2]])
    key = hashlib.sha256(recipe.encode() + b"\0" + key_material).hexdigest()
    stamp: dict[str, Any] = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    cached = stamp.get("key") == key and root.is_dir()
    if not cached:
        print(f"  building {logical_id} ({source.relative_to(stack.root)}, BuildMethod {method}) ...", flush=True)
        staging = LAYER_BUILD_DIR / f"{logical_id}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        if method == "makefile":
            outcome = _build_makefile(logical_id, source, staging)
        else:
            outcome = _build_python(logical_id, source, staging, method, arch)
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
        stamp = {"key": key, **outcome}
        stamp_file.write_text(json.dumps(stamp, indent=2))
    build = LayerBuild(logical_id, source, root, method, cached, stamp.get("platforms"), stamp.get("sam_error"))
    if method.startswith("python"):
        _copy_packages(source, build.python_dir)  # always fresh: not part of the cache key
    build.package_sizes = package_sizes(build.root, [p.parent.name for p in source.glob("*/__init__.py")])
    build.wheel_tags = wheel_tags(build.python_dir)
    return build


# -- measuring -------------------------------------------------------------------------------------


def _dist_name(dist_info: Path) -> str:
    metadata = dist_info / "METADATA"
    if metadata.is_file():
        for line in metadata.read_text(errors="replace").splitlines():
            if not line:
                break
            if line.startswith("Name:"):
                return canonical(line.split(":", 1)[1].strip())
    return canonical(dist_info.name.split("-")[0])


def _owners(site: Path) -> dict[Path, str]:
    """File -> canonical distribution name, from every RECORD installed in `site`."""
    owners: dict[Path, str] = {}
    for record in site.glob("*.dist-info/RECORD"):
        name = _dist_name(record.parent)
        with record.open(newline="") as handle:
            for row in csv.reader(handle):
                if row:
                    path = row[0]
                    while path.startswith("../"):  # console scripts: ../../bin/x lands in <site>/bin/x
                        path = path[3:]
                    owners[site / path] = name
    return owners


def package_sizes(root: Path, own_packages: list[str] | None = None) -> dict[str, int]:
    """Bytes per distribution under a layer root (files in no RECORD go by their top-level name)."""
    site = root / "python"
    owners = _owners(site) if site.is_dir() else {}
    own = set(own_packages or [])
    sizes: dict[str, int] = defaultdict(int)
    for path in root.rglob("*"):
        if "__pycache__" in path.parts or path.is_symlink() or not path.is_file():
            continue
        name = owners.get(path)
        if name is None:
            top = (path.relative_to(site) if path.is_relative_to(site) else path.relative_to(root)).parts[0]
            name = f"{top} (layer source)" if top in own else f"{top} (no RECORD)"
        sizes[name] += path.stat().st_size
    return dict(sizes)


def wheel_tags(site: Path) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {}
    for wheel in site.glob("*.dist-info/WHEEL"):
        tags[_dist_name(wheel.parent)] = [
            line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")
        ]
    return tags


def _requires(site: Path, runtime: str) -> dict[str, set[str]]:
    """Installed distribution -> the installed distributions it requires on the runtime's platform."""
    from packaging.requirements import InvalidRequirement, Requirement

    environment = {
        "python_version": "{}.{}".format(*python_version(runtime)),
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "extra": "",
    }
    graph: dict[str, set[str]] = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        deps = set()
        for line in metadata.read_text(errors="replace").splitlines():
            if not line:
                break  # end of headers
            if line.startswith("Requires-Dist:"):
                try:
                    req = Requirement(line.split(":", 1)[1].strip())
                except InvalidRequirement:
                    continue
                if req.marker is None or req.marker.evaluate(environment):
                    deps.add(canonical(req.name))
        graph[_dist_name(metadata.parent)] = deps
    return graph


def requirement_closures(build: LayerBuild, runtime: str) -> list[tuple[str, int, int, list[str]]]:
    """Per top-level distribution (listed in requirements.txt, or required by nothing else installed):
    (name, bytes with its dependencies, bytes no other top-level one needs, its dependencies)."""
    from packaging.requirements import InvalidRequirement, Requirement

    graph = _requires(build.python_dir, runtime)
    required = set().union(*graph.values()) if graph else set()
    tops = [name for name in graph if name not in required]
    requirements = build.source / "requirements.txt"
    if requirements.is_file():
        for line in requirements.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            try:
                name = canonical(Requirement(line).name)
            except InvalidRequirement:
                continue
            if name in graph and name not in tops:
                tops.append(name)
    closures: dict[str, set[str]] = {}
    for top in tops:
        seen: set[str] = set()
        todo = [top]
        while todo:
            name = todo.pop()
            if name in seen or name not in graph:
                continue
            seen.add(name)
            todo.extend(graph[name])
        closures[top] = seen
    result = []
    for top, closure in closures.items():
        others: set[str] = set().union(*(c for t, c in closures.items() if t != top))
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
    return bool(INFERENCE_LAYERS & set(fn.layers))


def _fn_arch(stack: Stack, fn: Function) -> str:
    globals_ = ((stack.raw.get("Globals") or {}).get("Function")) or {}
    props = stack.resources[fn.logical_id].get("Properties") or {}
    return _arch(str((props.get("Architectures") or globals_.get("Architectures") or ["x86_64"])[0]))


# -- the report ------------------------------------------------------------------------------------


def _print_layer(build: LayerBuild, runtime: str) -> None:
    status = "cached" if build.cached else "built"
    platforms = build.platforms or []
    shown = ", ".join(platforms) if len(platforms) <= 2 else f"{platforms[0]}, ... {platforms[-1]}"
    how = f"BuildMethod {build.method}, wheels for {shown}" if platforms else f"BuildMethod {build.method}"
    print(
        f"\n  {build.logical_id}: {fmt_mb(build.total)} as built, "
        f"{fmt_mb(build.total - build.runtime_provided)} minus runtime-provided boto3 stack "
        f"({status}: {build.root.relative_to(ROOT)}; {how})"
    )
    biggest = sorted(build.package_sizes.items(), key=lambda item: -item[1])[:5]
    print(
        table(
            ["biggest packages", "size", "share", "note"],
            [
                [
                    name,
                    fmt_mb(size),
                    f"{size / build.total:.0%}",
                    "provided by the Lambda runtime" if name in RUNTIME_PROVIDED else "",
                ]
                for name, size in biggest
            ],
            indent="    ",
            left=(0, 3),
        )
    )
    try:
        closures = requirement_closures(build, runtime)
    except ImportError:  # `packaging` comes with the dev tools; the table is optional
        closures = []
    if closures:
        print(
            table(
                ["top-level package", "with its deps", "only for it", "pulls in"],
                [
                    [top, fmt_mb(size), fmt_mb(exclusive), _names(deps)]
                    for top, size, exclusive, deps in sorted(closures, key=lambda c: -c[1])
                ],
                indent="    ",
                left=(0, 3),
            )
        )
    provided = sorted(n for n in build.package_sizes if n in RUNTIME_PROVIDED)
    if provided:
        print(
            f"    runtime-provided packages pulled in as dependencies: {', '.join(provided)} "
            f"({fmt_mb(build.runtime_provided)})"
        )


def run(report: Report, stack: Stack | None = None) -> None:
    heading("1. DEPLOYMENT SIZE PER FUNCTION (unzipped: CodeUri + layers, as `sam build` would lay them out)")
    stack = stack or Stack(ROOT / "template.yaml")
    functions = stack.functions()
    layers: dict[str, LayerBuild] = {}
    for fn in functions:
        if fn.code_uri.joinpath("requirements.txt").is_file():
            report.problem(f"{fn.logical_id}: {fn.code_uri}/requirements.txt is not sized by this benchmark")
        for layer in fn.layers:
            if layer not in layers:
                layers[layer] = build_layer(stack, layer, fn.runtime)
                _print_layer(layers[layer], fn.runtime)
                build = layers[layer]
                if build.sam_error:
                    report.problem(
                        f"{layer}: `sam build` ({build.method}, {sam_platforms(build.method, 'x86_64')[0]} "
                        f"wheels) fails: {build.sam_error.splitlines()[0]}. Sized with newer manylinux wheels."
                    )

    # Every layer's wheels against every function runtime that loads it.
    unloadable: dict[str, list[str]] = {}
    for fn in functions:
        arch = _fn_arch(stack, fn)
        problems = []
        for layer in fn.layers:
            compatible = (stack.resources[layer].get("Properties") or {}).get("CompatibleRuntimes") or []
            if compatible and fn.runtime not in compatible:
                problems.append(f"{layer} is not declared compatible with {fn.runtime} ({', '.join(compatible)})")
            bad = layers[layer].unloadable(fn.runtime, arch)
            if bad:
                need = ", ".join(f"{n} (glibc {min_glibc(layers[layer].wheel_tags[n])})" for n in bad)
                glibc = ".".join(map(str, runtime_glibc(fn.runtime)))
                cpython = "cp" + "".join(map(str, python_version(fn.runtime)))
                problems.append(
                    f"{layer} has wheels {fn.runtime} cannot import ({runtime_os(fn.runtime)}: glibc {glibc}, "
                    f"{cpython}): {need}"
                )
        if problems:
            unloadable[fn.logical_id] = problems
    seen: set[str] = set()
    for problems in unloadable.values():
        for text in problems:
            if text not in seen:
                seen.add(text)
                report.problem(f"{text} [{', '.join(f for f, p in unloadable.items() if text in p)}]")

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
        caveat = " *" if fn.logical_id in unloadable else ""
        rows.append(
            [
                fn.logical_id + caveat,
                fn.runtime,
                "+".join(["code", *fn.layers]),
                fmt_mb(code),
                fmt_mb(built),
                fmt_ratio(limit_ratio),
                fmt_mb(lean),
                fmt_ratio(lean_limit_ratio),
                fmt_ratio(goal_ratio),
                status,
            ]
        )
        note = f"{status}; minus boto3 stack {fmt_mb(lean)} = {fmt_ratio(lean_limit_ratio)} of 250 MB"
        if goal_ratio is not None:
            note += f", {fmt_ratio(goal_ratio)} of the 120 MB inference goal"
        report.add("size", f"{fn.logical_id} unzipped{caveat}", fmt_mb(built), "250 MB Lambda limit", limit_ratio, note)
    print("\n  Per function (MB = 2^20 bytes, as AWS counts the 250 MB limit)")
    print(
        table(
            [
                "function",
                "runtime",
                "contents",
                "code",
                "as built",
                "/250 MB",
                "minus boto3",
                "/250 MB",
                "/120 MB goal",
                "status",
            ],
            rows,
            left=(0, 1, 2),
        )
    )
    if unloadable:
        print("  * this function's layers would not load on its runtime as the template declares it (see findings)")
    print(
        "  The 120 MB goal applies to inference functions (with MlLayer or VisualLayer) and is compared without the "
        "runtime-provided boto3 stack."
    )

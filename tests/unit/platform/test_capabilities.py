"""A capability plugs in where it lives: template.yaml, the README and its own folders, nothing else.

Nothing central lists the capabilities. They are found from the folders (`model_build/<capability>/`,
`commerce_ai/<capability>/settings.py`, `tests/unit/<capability>/iam_scenarios.py`) and from
template.yaml (each function's `POWERTOOLS_SERVICE_NAME` starts with its capability's name). What can be
checked is checked here, so a capability that misses a place fails a test that names the place.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

import model_build
from infra.template import ROOT, Function, Stack
from tests.support.capabilities import capabilities, capability_of

STACK = Stack()
FUNCTIONS = STACK.functions()
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def test_the_capabilities_are_found() -> None:
    assert {"registry", "pricing", "risk"} <= capabilities()


@pytest.mark.parametrize("fn", FUNCTIONS, ids=[fn.logical_id for fn in FUNCTIONS])
def test_every_function_names_its_capability(fn: Function) -> None:
    assert capability_of(fn) in capabilities()


@pytest.mark.parametrize("capability", sorted(capabilities()))
def test_a_capability_has_its_own_folders(capability: str) -> None:
    wanted = [
        ROOT / "functions" / capability,
        ROOT / "layers" / "core" / "commerce_ai" / capability / "__init__.py",
        ROOT / "events" / capability,
        ROOT / "tests" / "unit" / capability / "__init__.py",
        ROOT / "tests" / "unit" / capability / "iam_scenarios.py",  # its functions' IAM agreement
    ]
    missing = [str(path.relative_to(ROOT)) for path in wanted if not path.exists()]
    assert missing == []


def test_training_pipelines_are_the_model_build_folders() -> None:
    folders = {p.parent.name for p in (ROOT / "model_build").glob("*/__init__.py")}
    assert set(model_build.CAPABILITIES) == folders
    assert {"pricing", "risk"} <= folders


@pytest.mark.parametrize("name", sorted(model_build.CAPABILITIES))
def test_a_training_pipeline_declares_its_models_and_a_build(name: str) -> None:
    module = importlib.import_module(model_build.CAPABILITIES[name])
    models = getattr(module, "MODELS", None)
    assert isinstance(models, list) and models, f"model_build.{name} defines no MODELS"
    assert all(MODEL_NAME.match(m) for m in models), models
    assert callable(getattr(module, "build", None)), f"model_build.{name} defines no build(workdir)"


def test_every_model_is_built_by_one_capability() -> None:
    owners: dict[str, str] = {}
    for name in model_build.CAPABILITIES:
        for model in importlib.import_module(model_build.CAPABILITIES[name]).MODELS:
            assert model not in owners, f"{model} is built by {owners[model]} and {name}"
            owners[model] = name


def _packages_on_disk(root: Path, prefix: str) -> set[str]:
    return {prefix} | {
        prefix + "." + ".".join(p.parent.relative_to(root).parts)
        for p in root.rglob("__init__.py")
        if p.parent != root and "__pycache__" not in p.parts
    }


def test_pyproject_finds_packages_instead_of_listing_them() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "packages" not in setuptools or set(setuptools["packages"]) == {"find"}, "an explicit package list"
    find = setuptools["packages"]["find"]
    found = {pkg for where in find["where"] for pkg in find_packages(str(ROOT / where), include=find["include"])}
    on_disk = (
        _packages_on_disk(ROOT / "layers" / "core" / "commerce_ai", "commerce_ai")
        | _packages_on_disk(ROOT / "infra", "infra")
        | _packages_on_disk(ROOT / "model_build", "model_build")
    )
    assert found == on_disk
    assert {"commerce_ai.pricing", "model_build.risk"} <= found


@pytest.mark.parametrize("layer", ["unit", "integration", "e2e"])
def test_the_tests_mirror_the_capabilities(layer: str) -> None:
    # Given tests/<layer>/, every test module is in a capability's folder or the platform's,
    root = ROOT / "tests" / layer
    assert sorted(p.name for p in root.glob("test_*.py")) == [], f"tests/{layer}/ has tests outside any folder"
    folders = {p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__"}
    # and every folder is one of those (or the integration tests' fixture template).
    assert folders - capabilities() - {"platform", "fixtures"} == set()

"""model_build.cache: a capability's fingerprint follows its code, data and settings, and nothing else;
cached builds are restored only when every file still verifies."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from model_build import ROOT, Built
from model_build import cache as build_cache
from model_build.cache import BuildCache, Fingerprint, fingerprint
from tests.support.models import built_linear

CAPABILITY_CODE = """
from typing import TYPE_CHECKING

from shop.util import helper

if TYPE_CHECKING:
    from shop.typing_only import Hint

MODELS = ["demo-scorer"]


def build(workdir):
    from shop.demo.train import fit
    import lightgbm
    return fit(workdir)


def evaluate(report_dir):
    from shop.demo.report import write  # a report: not part of the build
    return write(report_dir)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project laid out like ours: package-dir in pyproject, a training package, shared code."""
    (tmp_path / "pyproject.toml").write_text('[tool.setuptools]\npackage-dir = { "shop" = "src/shop" }\n')
    files = {
        "src/shop/__init__.py": "",
        "src/shop/util.py": "def helper(): ...\n",
        "src/shop/typing_only.py": "class Hint: ...\n",
        "src/shop/unrelated.py": "x = 1\n",
        "src/shop/domain.py": "import numpy\n\ndef rule(): ...\n",
        "src/shop/demo/__init__.py": CAPABILITY_CODE,
        "src/shop/demo/train.py": "from ..domain import rule\nimport onnx\n\ndef fit(workdir): ...\n",
        "src/shop/demo/report.py": "import torch\n\ndef write(d): ...\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def capability_module(project: Path, data_sha: str = "aaa", seed: int = 7) -> ModuleType:
    module = ModuleType("shop.demo")
    module.__file__ = str(project / "src/shop/demo/__init__.py")
    module.build_inputs = lambda: {"data:sales.csv sha256": data_sha, "setting:seed": str(seed)}  # type: ignore[attr-defined]
    return module


def digest(project: Path, **kwargs: object) -> str:
    return fingerprint("demo", capability_module(project, **kwargs), root=project).digest  # type: ignore[arg-type]


def test_the_fingerprint_covers_what_build_imports_and_nothing_else(project: Path) -> None:
    fp = fingerprint("demo", capability_module(project), root=project)
    sources = sorted(k.removeprefix("source:") for k in fp.inputs if k.startswith("source:"))
    assert sources == [
        "src/shop/__init__.py",
        "src/shop/demo/__init__.py",
        "src/shop/demo/train.py",  # imported inside build()
        "src/shop/domain.py",  # a relative import of the training code
        "src/shop/util.py",
    ]  # not the report (evaluate only), the TYPE_CHECKING import or unrelated code
    libraries = sorted(k.removeprefix("library:") for k in fp.inputs if k.startswith("library:"))
    assert libraries == ["lightgbm", "onnx"]  # the training package's, not the shared code's numpy or torch
    assert fp.inputs["data:sales.csv sha256"] == "aaa" and fp.inputs["setting:seed"] == "7"


def test_the_fingerprint_is_stable_while_nothing_changes(project: Path) -> None:
    assert digest(project) == digest(project)
    (project / "src/shop/unrelated.py").write_text("x = 2\n")
    (project / "src/shop/demo/report.py").write_text("import torch\n\ndef write(d): return d\n")
    assert digest(project) == digest(project)


@pytest.mark.parametrize(
    "changed",
    ["src/shop/demo/__init__.py", "src/shop/demo/train.py", "src/shop/domain.py", "src/shop/util.py"],
)
def test_a_change_to_code_the_build_uses_changes_the_fingerprint(project: Path, changed: str) -> None:
    before = digest(project)
    with (project / changed).open("a") as source:
        source.write("\n# changed\n")
    assert digest(project) != before


def test_a_change_to_data_or_settings_changes_the_fingerprint(project: Path) -> None:
    before = digest(project)
    assert digest(project, data_sha="bbb") != before
    assert digest(project, seed=8) != before
    assert digest(project) == before


def test_a_library_upgrade_changes_the_fingerprint(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = digest(project)
    monkeypatch.setattr(build_cache, "installed_version", lambda m: "lightgbm 9.9" if m == "lightgbm" else "x")
    upgraded = digest(project)
    monkeypatch.setattr(build_cache, "installed_version", lambda m: "lightgbm 9.10" if m == "lightgbm" else "x")
    assert len({before, upgraded, digest(project)}) == 3


def test_the_real_capabilities_fingerprint_their_domain_code_and_libraries() -> None:
    pricing = fingerprint("pricing").inputs
    assert "source:layers/core/commerce_ai/pricing/features.py" in pricing
    assert "source:model_build/pricing/export.py" in pricing
    assert "source:model_build/pricing/dqn.py" not in pricing  # the policy study is not the build
    assert {"library:lightgbm", "library:onnxmltools"} <= set(pricing) and "library:torch" not in pricing
    assert "data:orangeJuice.rda sha256" in pricing
    risk = fingerprint("risk").inputs
    assert "source:layers/core/commerce_ai/risk/features.py" in risk and "library:xgboost" in risk
    assert "setting:simulator" in risk
    assert fingerprint("risk").digest == fingerprint("risk").digest != fingerprint("pricing").digest
    assert all((ROOT / k.removeprefix("source:")).is_file() for k in pricing if k.startswith("source:"))


# ---------------------------------------------------------------------------------------- entries


def key(digest: str = "1") -> Fingerprint:
    return Fingerprint("demo", {"source:a.py": digest})


def built_model(tmp_path: Path) -> Built:
    directory = tmp_path / "workdir" / "demo-scorer"
    directory.mkdir(parents=True)
    (directory / "extra.json").write_text('{"table": 1}')
    return built_linear(directory)


def test_a_stored_build_is_found_again_with_its_files(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    original = built_model(tmp_path)
    (stored,) = cache.store(key(), [original])
    lookup = cache.lookup(key())
    assert lookup.reason == "cached" and lookup.built is not None
    (found,) = lookup.built
    assert found == stored and found.directory != original.directory  # served from the cache's own copy
    assert (found.name, found.entrypoint, found.inputs, found.training_data, found.metrics) == (
        original.name,
        original.entrypoint,
        original.inputs,
        original.training_data,
        original.metrics,
    )
    assert {p.name for p in found.directory.iterdir()} == {"model.onnx", "extra.json"}


def test_a_miss_says_what_changed_since_the_last_build(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    assert cache.lookup(key()).reason == "not built before"
    cache.store(key("1"), [built_model(tmp_path)])
    lookup = cache.lookup(key("2"))
    assert lookup.built is None and lookup.reason == "changed since the last build: source:a.py"


@pytest.mark.parametrize("damage", ["file", "missing-file", "entry", "missing-model"])
def test_a_corrupt_entry_is_discarded_not_published(tmp_path: Path, damage: str) -> None:
    cache = BuildCache(tmp_path / "cache")
    (stored,) = cache.store(key(), [built_model(tmp_path)])
    entry_dir = stored.directory.parent
    if damage == "file":
        (stored.directory / "model.onnx").write_bytes(b"not a model")
    elif damage == "missing-file":
        (stored.directory / "extra.json").unlink()
    elif damage == "entry":
        (entry_dir / "entry.json").write_text("{not json")
    else:
        entry = json.loads((entry_dir / "entry.json").read_text())
        entry["models"][0]["name"] = "other-model"
        (entry_dir / "entry.json").write_text(json.dumps(entry))
    lookup = cache.lookup(key())
    assert lookup.built is None and lookup.reason.startswith("cached build discarded")
    assert not entry_dir.exists()  # so the next build stores a sound one
    assert cache.lookup(key()).reason == "not built before"


def test_storing_again_replaces_the_entry_and_old_entries_are_pruned(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path / "cache")
    for n in range(build_cache.KEEP_PER_CAPABILITY + 2):
        cache.store(key(str(n)), [built_model(tmp_path / str(n))])
    kept = [d for d in (tmp_path / "cache" / "demo").iterdir()]
    assert len(kept) == build_cache.KEEP_PER_CAPABILITY
    assert cache.lookup(key("0")).built is None
    assert cache.lookup(key(str(build_cache.KEEP_PER_CAPABILITY + 1))).built is not None
    cache.store(key("4"), [built_model(tmp_path / "again")])  # `commerce-ai train` refreshes an entry
    assert cache.lookup(key("4")).built is not None
    assert not list((tmp_path / "cache" / "demo").glob(".staging-*"))

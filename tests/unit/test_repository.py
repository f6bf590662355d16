"""The source tree is what git ships: no source file is hidden by an ignore rule.

CI (.ci/run) runs on a clean clone, so a source file that .gitignore swallows exists only on the machine
that wrote it and everything importing it fails everywhere else.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.xfail(
    strict=True,
    reason="BUG: .gitignore's 'artifacts/' (meant for the top-level build output) also ignores the "
    "layers/core/commerce_ai/artifacts/ package, so a clean clone has no commerce_ai.artifacts",
)
def test_no_source_file_is_git_ignored() -> None:
    assert ignored(source_files()) == []


def test_the_artifacts_package_is_the_only_ignored_source() -> None:
    # Pins the extent of the bug above, so a new ignored source file is not hidden behind its xfail.
    assert {Path(p).parent.as_posix() for p in ignored(source_files())} <= {"layers/core/commerce_ai/artifacts"}

"""The README's examples run as written against the running stack: every `curl` in its shell blocks, in
README order, in one shell (later blocks use the `KEY` the first one sets), and none is answered with a
4xx or 5xx. A README change that breaks an example fails here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from infra.template import ROOT
from tests.e2e.conftest import Running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

LOCAL = "http://127.0.0.1:3000"


def shell_examples() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [block for block in blocks if LOCAL in block]


def test_the_readme_has_http_examples() -> None:
    assert len(shell_examples()) >= 4  # registry, pricing, risk, experiments, events


def test_every_readme_example_runs_as_written(running: Running, tmp_path: Path) -> None:
    # The examples read the keys from .commerce-ai/ in the clone; here that is the stack's state dir.
    (tmp_path / ".commerce-ai").symlink_to(running.state_dir)
    statuses = tmp_path / "statuses"
    # Each curl (command substitutions included) appends its status line; the examples' own flags stay.
    headers = tmp_path / "headers"
    prelude = f"""set -euo pipefail
curl() {{ command curl -D {headers} "$@"; local rc=$?; head -n1 {headers} >> {statuses}; return $rc; }}
"""
    script = prelude + "\n".join(block.replace(LOCAL, running.http) for block in shell_examples())
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = statuses.read_text().splitlines()
    calls = sum(block.count("curl ") for block in shell_examples())
    assert len(lines) == calls, (lines, calls)
    failed = [(i, line) for i, line in enumerate(lines) if int(line.split()[1]) >= 400]
    assert failed == [], (failed, result.stdout[-3000:])

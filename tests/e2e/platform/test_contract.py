"""The published contract from outside: schemathesis over every route of the running stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import requests

from infra.template import ROOT
from tests.e2e.conftest import Running
from tests.support.contract import schemathesis_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# Bounded so the fuzzing stays within a few minutes on two shared cores; CONTRACT_FUZZ_EXAMPLES raises it.
FUZZ_EXAMPLES = int(os.environ.get("CONTRACT_FUZZ_EXAMPLES", "15"))


def test_every_route_holds_to_the_published_contract_under_fuzzing(running: Running, tmp_path: Path) -> None:
    """schemathesis over every route of docs/openapi.json, admin routes with the key: no 5xx, and every
    response as the document describes it (status, content type, body). A route added with its models
    is in the document, so it is fuzzed here without editing this test."""
    served = requests.get(f"{running.http}/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == json.loads((ROOT / "docs/openapi.json").read_text())
    command = schemathesis_command(running.http, running.admin_key, FUZZ_EXAMPLES)
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

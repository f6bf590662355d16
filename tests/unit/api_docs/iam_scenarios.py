"""The API documentation function in the IAM agreement check (tests/unit/platform/test_iam_agreement.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chalice.test import Client

from tests.unit.iam import Scenario, World, configure


def run_api_docs(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    handler, _ = configure(monkeypatch, "ApiDocsFunction", tmp_path)
    world.forget_setup()
    with Client(handler) as client:
        assert client.http.get("/openapi.json").status_code == 200
        assert client.http.get("/docs").status_code == 200
        assert client.http.get("/docs/swagger-ui.css").status_code == 200


SCENARIOS: dict[str, Scenario] = {"ApiDocsFunction": run_api_docs}

"""The README documents what the template and config define: every variable and every endpoint."""

from __future__ import annotations

import re
from pathlib import Path

from commerce_ai.config import declared_variables
from infra.template import ROOT, Stack

README = (ROOT / "README.md").read_text()


def test_every_function_variable_is_documented() -> None:
    names = declared_variables()
    for fn in Stack().functions():
        names.update(fn.environment)
    missing = sorted(n for n in names if f"`{n}`" not in README)
    assert missing == []


def test_every_cli_variable_is_documented() -> None:
    used: set[str] = set()
    for path in [*(ROOT / "infra").rglob("*.py"), *(ROOT / "model_build").rglob("*.py")]:
        used.update(re.findall(r"os\.environ(?:\.get)?[\[(]\"([A-Z_]+)\"", path.read_text()))
    assert {"ADMIN_API_KEY", "AWS_ENDPOINT_URL", "COMMERCE_AI_STATE_DIR"} <= used, "the scan finds the CLI's variables"
    missing = sorted(n for n in used if f"`{n}`" not in README)
    assert missing == []


def test_every_endpoint_has_a_curl_example() -> None:
    curls = "\n".join(line for line in README.splitlines() if "curl" in line or line.startswith("  -"))
    for fn in Stack().functions():
        for event in fn.events:
            if event.type != "Api":
                continue
            path = re.sub(r"\\\{[^}]+\\\}", r"[^/\\s?'\"]+", re.escape(str(event.properties["Path"])))
            assert re.search(rf"127\.0\.0\.1:3000{path}(?![/\w])", curls), (
                f"no curl example for {event.properties['Path']}"
            )


def test_readme_names_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
    assert "make test" in Path(ROOT / ".ci" / "run").read_text()

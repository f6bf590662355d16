"""One `commerce-ai up` in a subprocess for the whole e2e session, driven only from outside: HTTP to its
gateway, boto3 to its AWS. Each capability's e2e tests are in tests/e2e/<capability>/; the platform's
in tests/e2e/platform/, where Ctrl-C stops the stack after every other test has run."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.support.stack import UP_BANNER, caller_key, console_script, launch, stop

__all__ = ["STACK", "Running", "console_script", "stop", "until"]

STACK = "commerce-ai"
LAST = "test_ctrl_c_stops_everything"
# Fuzzing every route with the admin key changes state at random (it deletes SKUs, blocks devices...), so
# it runs after every test that reads that state, just before Ctrl-C.
FUZZING = "test_every_route_holds_to_the_published_contract_under_fuzzing"
# The README's examples reprice the whole catalog and change a SKU's settings: after the tests that read them.
README_EXAMPLES = "test_every_readme_example_runs_as_written"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Ctrl-C stops the stack every e2e test shares: it runs after all of them, whatever their folder, and
    the contract's fuzzing just before it."""
    items.sort(key=lambda item: (item.name == LAST, item.name == FUZZING, item.name == README_EXAMPLES))


@dataclass
class Running:
    process: subprocess.Popen[str]
    http: str
    aws: str
    state_dir: Path
    output: list[str] = field(default_factory=list)
    ws: str = ""  # the WebSocket APIs' base URL (ws://127.0.0.1:PORT), stage paths below it
    # GET /health as polled while `up` started: (status code, body), until the banner.
    health_during_startup: list[tuple[int, Any]] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def publish(self, built: Any) -> str:
        """What a training pipeline on another machine does with a `model_build.Built`: upload its files,
        then its manifest (the artifact events register it as a candidate); returns the version."""
        from model_build import manifest_for

        manifest = manifest_for(built)
        s3 = self.client("s3")
        bucket = f"{STACK}-artifacts-123456789012-us-east-1"
        for relative in manifest.files:
            s3.upload_file(str(built.directory / relative), bucket, manifest.prefix() + relative)
        s3.put_object(Bucket=bucket, Key=manifest.prefix() + "manifest.json", Body=manifest.model_dump_json().encode())
        return str(manifest.version)

    @property
    def admin_key(self) -> str:
        return (self.state_dir / "admin-key").read_text().strip()

    @property
    def ingest_key(self) -> str:
        """The shop backend's key: POST /events and the routes that act for one user."""
        return (self.state_dir / "ingest-key").read_text().strip()

    def key(self, kind: str) -> str:
        """A caller kind's key as `up` wrote it (README, "Callers and scopes"; events is the ingest key)."""
        return caller_key(self.state_dir, kind)

    def headers(self, kind: str) -> dict[str, str]:
        return {"x-api-key": self.key(kind)}


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    state_dir = tmp_path_factory.mktemp("state")
    ready = threading.Event()

    def on_line(line: str) -> None:
        if UP_BANNER in line:
            ready.set()

    launched = launch(state_dir, on_line=on_line)
    process = launched.process
    up = Running(process, launched.http, launched.aws, state_dir, launched.output, ws=launched.ws)

    def poll_health() -> None:
        while not ready.is_set() and process.poll() is None:
            try:
                response = requests.get(f"{up.http}/health", timeout=5)
                up.health_during_startup.append((response.status_code, response.json()))
            except requests.RequestException:
                pass  # not serving yet
            time.sleep(0.2)

    threading.Thread(target=poll_health, daemon=True).start()
    # On a new machine `up` first fetches Dominick's OJ (apt-get) and trains the pricing and risk models.
    if not ready.wait(600):
        stop(process)
        pytest.fail("commerce-ai up did not start:\n" + "".join(up.output))
    yield up
    stop(process)


def until(check: Any, timeout: float = 60.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)

"""One `commerce-ai up` in a subprocess for the whole e2e session, driven only from outside: HTTP to its
gateway, boto3 to its AWS. Each capability's e2e tests are in tests/e2e/<capability>/; the platform's
in tests/e2e/platform/, where Ctrl-C stops the stack after every other test has run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.emulator import free_port
from infra.template import ROOT

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
        name = {"events": "ingest-key"}.get(kind, f"{kind}-key")
        return (self.state_dir / name).read_text().strip()

    def headers(self, kind: str) -> dict[str, str]:
        return {"x-api-key": self.key(kind)}


def _interrupt_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def console_script() -> list[str]:
    script = Path(sys.executable).parent / "commerce-ai"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    aws_port = free_port()
    http_port = free_port()
    while http_port == aws_port:
        http_port = free_port()
    ws_port = free_port()
    while ws_port in (aws_port, http_port):
        ws_port = free_port()
    state_dir = tmp_path_factory.mktemp("state")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.endswith("_API_KEY")}
    env["COMMERCE_AI_STATE_DIR"] = str(state_dir)
    # The clone's build cache (as `make run` uses it): models already built are published, not retrained.
    # Its entries are keyed by what built them and verified before use, so sharing it is safe.
    env.setdefault("COMMERCE_AI_BUILD_CACHE", str(ROOT / ".commerce-ai" / "build-cache"))
    process = subprocess.Popen(
        [
            *console_script(),
            "--aws-port",
            str(aws_port),
            "up",
            "--http-port",
            str(http_port),
            "--ws-port",
            str(ws_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C as from a terminal: a test run started in the background (nohup, `cmd &` in a script)
        # passes SIGINT on ignored, and Python keeps it ignored, so `up` would never see the Ctrl-C.
        preexec_fn=_interrupt_by_default,
    )
    up = Running(
        process,
        f"http://127.0.0.1:{http_port}",
        f"http://127.0.0.1:{aws_port}",
        state_dir,
        ws=f"ws://127.0.0.1:{ws_port}",
    )
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            up.output.append(line)
            if "commerce-ai is up" in line:
                ready.set()

    def poll_health() -> None:
        while not ready.is_set() and process.poll() is None:
            try:
                response = requests.get(f"{up.http}/health", timeout=5)
                up.health_during_startup.append((response.status_code, response.json()))
            except requests.RequestException:
                pass  # not serving yet
            time.sleep(0.2)

    threading.Thread(target=pump, daemon=True).start()
    threading.Thread(target=poll_health, daemon=True).start()
    # On a new machine `up` first fetches Dominick's OJ (apt-get) and trains the pricing and risk models.
    if not ready.wait(600):
        stop(process)
        pytest.fail("commerce-ai up did not start:\n" + "".join(up.output))
    yield up
    stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C first, so `up` stops the emulator it started; kill only if it does not exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def until(check: Any, timeout: float = 60.0, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)

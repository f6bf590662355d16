"""One `commerce-ai up` for the campaigns, with the fault layer armed (infra/runner/faults.py): every
function process reads the plan file, which is empty until a campaign writes one. Driven only from outside,
as a client and as the shop's other systems would: HTTP to its gateway, boto3 to its AWS."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from infra.emulator import free_port
from infra.runner.faults import FAULTS_ENV
from infra.template import ROOT, Env, Stack

STACK = "commerce-ai"
ACCOUNT = "123456789012"
_TEMPLATE = Stack(env=Env(queue_endpoint="http://unused"))  # names only: nothing here talks to AWS through it
READY_TIMEOUT = 1800.0  # a first start trains every capability; the build cache makes later ones short


@dataclass
class Up:
    http: str
    aws: str
    state_dir: Path
    plan_path: Path
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def name(self, logical_id: str) -> str:
        """The physical name of a template resource (a table, queue or bucket), as `up` created it."""
        return _TEMPLATE.physical_name(logical_id)

    def queue_url(self, logical_id: str) -> str:
        return str(self.client("sqs").get_queue_url(QueueName=self.name(logical_id))["QueueUrl"])

    @property
    def admin_key(self) -> str:
        return (self.state_dir / "admin-key").read_text().strip()

    @property
    def ingest_key(self) -> str:
        return (self.state_dir / "ingest-key").read_text().strip()

    def faults(self, rate: float = 0.0, crash_rate: float = 0.0, functions: list[str] | None = None) -> None:
        """Arm (or, with no arguments, disarm) the fault layer in every function process within half a second."""
        plan = {"rate": rate, "crash_rate": crash_rate, "functions": functions or []}
        tmp = self.plan_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(plan))
        tmp.replace(self.plan_path)
        time.sleep(1.0)  # the processes re-read it at most every 0.5 s

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> float:
        """Wait for GET /health 200 (every model active, seeding done); the seconds waited."""
        started = time.monotonic()
        while True:
            try:
                if requests.get(f"{self.http}/health", timeout=10).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the stack was not ready within {timeout:.0f} s")
            time.sleep(5.0)

    def request(self, method: str, path: str, headers: dict[str, str], data: bytes | None) -> tuple[int, str]:
        response = requests.request(method, self.http + path, data=data, headers=headers, timeout=60)
        return response.status_code, response.text

    def log_lines(self, function: str, marker: str) -> int:
        """How many lines of a function's log contain `marker` (e.g. the fault layer's "FAULT ")."""
        path = self.state_dir / "logs" / f"{function}.log"
        if not path.exists():
            return 0
        with path.open(errors="replace") as handle:
            return sum(1 for line in handle if marker in line)


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "commerce-ai"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def up(state_dir: Path) -> Iterator[Up]:
    """`commerce-ai up` on free ports with its own state dir and the clone's build cache; stopped with Ctrl-C."""
    state_dir.mkdir(parents=True, exist_ok=True)
    plan_path = state_dir / "faults.json"
    plan_path.unlink(missing_ok=True)
    aws_port = free_port()
    http_port = free_port()
    while http_port == aws_port:
        http_port = free_port()
    ws_port = free_port()
    while ws_port in (aws_port, http_port):
        ws_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "ADMIN_API_KEY"}
    env["COMMERCE_AI_STATE_DIR"] = str(state_dir)
    env.setdefault("COMMERCE_AI_BUILD_CACHE", str(ROOT / ".commerce-ai" / "build-cache"))
    env[FAULTS_ENV] = str(plan_path)
    command = [*_console_script(), "--aws-port", str(aws_port), "up", "--http-port", str(http_port)]
    process = subprocess.Popen(
        [*command, "--ws-port", str(ws_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    stack = Up(f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{aws_port}", state_dir, plan_path, process)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        started = time.monotonic()
        with requests.Session() as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError("commerce-ai up exited:\n" + "".join(stack.output[-40:]))
                try:
                    if http.get(f"{stack.http}/health", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() - started > READY_TIMEOUT:
                    raise RuntimeError("commerce-ai up was not ready in time:\n" + "".join(stack.output[-40:]))
                time.sleep(1.0)
        print(f"commerce-ai up ready in {time.monotonic() - started:.0f} s ({stack.http}, AWS {stack.aws})", flush=True)
        yield stack
    finally:
        plan_path.unlink(missing_ok=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def attach(http: str, aws: str, state_dir: Path) -> Up:
    """A stack someone else started (with COMMERCE_AI_FAULTS=<state_dir>/faults.json), for quick iterations."""
    return Up(http, aws, state_dir, state_dir / "faults.json")

"""One `commerce-ai up` for the campaigns, with the fault layer armed (infra/runner/faults.py): every
function process reads the plan file, which is empty until a campaign writes one. Driven only from outside,
as a client and as the shop's other systems would: HTTP to its gateway, boto3 to its AWS."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import requests

from infra.runner.faults import FAULTS_ENV
from infra.template import Env, Stack
from tests.support.stack import caller_key, launch, stop

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
    _plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # armed plans, by function
    _plan_lock: threading.Lock = field(default_factory=threading.Lock)

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

    def key(self, kind: str) -> str:
        """A caller kind's key (checkout, events, labels, operator, admin) as `up` wrote it."""
        return caller_key(self.state_dir, kind)

    @property
    def admin_key(self) -> str:
        return self.key("admin")

    @property
    def ingest_key(self) -> str:
        return self.key("events")

    def faults(self, rate: float = 0.0, crash_rate: float = 0.0, functions: list[str] | None = None) -> None:
        """Arm the fault layer for `functions` (every function when none are named), or with no rates disarm
        them (with no arguments at all: everything), within half a second; campaigns running at once arm
        their own functions, side by side."""
        with self._plan_lock:
            if functions is None and not (rate or crash_rate):
                self._plans.clear()
            for name in functions or ["*"]:
                self._plans.pop(name, None)
                if rate or crash_rate:
                    self._plans[name] = {"rate": rate, "crash_rate": crash_rate, "functions": [name]}
            plans = [
                {**p, "functions": [] if p["functions"] == ["*"] else p["functions"]} for p in self._plans.values()
            ]
            tmp = self.plan_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"plans": plans}))
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


@contextmanager
def up(state_dir: Path) -> Iterator[Up]:
    """`commerce-ai up` (tests/support/stack.py) with its own state dir, the clone's build cache and the fault
    layer armed; yielded once its gateway answers (its models may still be building: `wait_ready`);
    stopped with Ctrl-C."""
    state_dir.mkdir(parents=True, exist_ok=True)
    plan_path = state_dir / "faults.json"
    plan_path.unlink(missing_ok=True)
    launched = launch(state_dir, {FAULTS_ENV: str(plan_path)})
    process = launched.process
    stack = Up(launched.http, launched.aws, state_dir, plan_path, process, launched.output)
    try:
        started = time.monotonic()
        with requests.Session() as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError("commerce-ai up exited:\n" + "".join(stack.output[-40:]))
                try:
                    http.get(f"{stack.http}/health", timeout=5)
                    break  # serving: the parts that need models wait for 200 themselves (`wait_ready`)
                except requests.RequestException:
                    pass
                if time.monotonic() - started > READY_TIMEOUT:
                    raise RuntimeError("commerce-ai up was not ready in time:\n" + "".join(stack.output[-40:]))
                time.sleep(1.0)
        print(
            f"commerce-ai up serving in {time.monotonic() - started:.0f} s ({stack.http}, AWS {stack.aws})", flush=True
        )
        yield stack
    finally:
        plan_path.unlink(missing_ok=True)
        stop(process, timeout=60)


def attach(http: str, aws: str, state_dir: Path) -> Up:
    """A stack someone else started (with COMMERCE_AI_FAULTS=<state_dir>/faults.json), for quick iterations."""
    return Up(http, aws, state_dir, state_dir / "faults.json")

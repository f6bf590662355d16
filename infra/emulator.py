"""The local AWS endpoint: an existing one if present, otherwise moto in server mode started by us.

Order of preference:
1. `AWS_ENDPOINT_URL` is set: use it as is (a LocalStack elsewhere, or anything S3/SQS/DynamoDB-shaped).
2. Something already answers on 127.0.0.1:<port> (4566 by default, LocalStack's port): use it.
3. Start `moto` in server mode on that port as a child process, and stop it on exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 4566
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class Emulator:
    endpoint: str
    process: subprocess.Popen[bytes] | None = None

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def environ(self) -> dict[str, str]:
        """Environment for anything (CLI, workers, tests) that should talk to this endpoint."""
        env = {"AWS_ENDPOINT_URL": self.endpoint}
        for key, value in LOCAL_CREDENTIALS.items():
            env[key] = os.environ.get(key, value) if not self.started_here else value
        return env

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def answers(endpoint: str, timeout: float = 1.0) -> bool:
    """True if an HTTP server answers at `endpoint` (any status counts: moto and LocalStack differ)."""
    try:
        urllib.request.urlopen(endpoint.rstrip("/") + "/", timeout=timeout)
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to stop moto if its parent dies, so a killed `up` leaves no server behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl-C still stops moto through `up`'s own shutdown


def start_moto(port: int, log_path: Path | None = None, timeout: float = 30.0) -> Emulator:
    endpoint = f"http://127.0.0.1:{port}"
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.moto_server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop moto in order
        preexec_fn=_die_with_parent,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with code {process.returncode} (port {port} in use?)")
        if answers(endpoint, timeout=0.5):
            return Emulator(endpoint, process)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"moto server did not answer on {endpoint} within {timeout:.0f}s")


def start_moto_on_a_free_port(log_path: Path | None = None, attempts: int = 3) -> Emulator:
    """For tests and benchmarks: a free port can be taken between choosing it and binding it; retry."""
    for attempt in range(attempts):
        try:
            return start_moto(free_port(), log_path)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def ensure(port: int = DEFAULT_PORT, log_path: Path | None = None) -> Emulator:
    configured = os.environ.get("AWS_ENDPOINT_URL")
    if configured:
        return Emulator(configured)
    endpoint = f"http://127.0.0.1:{port}"
    if answers(endpoint):
        return Emulator(endpoint)
    return start_moto(port, log_path)


def current_endpoint(port: int = DEFAULT_PORT) -> str:
    """The endpoint a CLI command should use against an already-running local stack."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{port}"
    if not answers(endpoint):
        raise RuntimeError(f"no local AWS answers on {endpoint}; start it with `make run` (commerce-ai up)")
    return endpoint

"""One `commerce-ai up` in a subprocess on free ports, with its own state dir and the clone's build cache:
the e2e suite's shared stack (tests/e2e/conftest.py) and the reliability campaigns' (tests/campaigns/_up.py)
both start and stop it here. Driven only from outside: HTTP to its gateway, boto3 to its AWS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infra.emulator import free_port
from infra.template import ROOT

UP_BANNER = "commerce-ai is up"


@dataclass
class Launched:
    process: subprocess.Popen[str]
    http: str
    aws: str
    ws: str
    output: list[str] = field(default_factory=list)


def console_script() -> list[str]:
    script = Path(sys.executable).parent / "commerce-ai"
    return [str(script)] if script.exists() else [sys.executable, "-m", "infra.cli"]


def _interrupt_by_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _three_ports() -> tuple[int, int, int]:
    ports: list[int] = []
    while len(ports) < 3:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports[0], ports[1], ports[2]


def launch(
    state_dir: Path, extra_env: dict[str, str] | None = None, on_line: Callable[[str], None] | None = None
) -> Launched:
    """Start `commerce-ai up` (AWS, HTTP and WebSocket ports free ones); every line it prints is kept in
    `output` and passed to `on_line`. The caller waits for it to be ready in its own way."""
    aws_port, http_port, ws_port = _three_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.endswith("_API_KEY")}
    env["COMMERCE_AI_STATE_DIR"] = str(state_dir)
    # The clone's build cache (as `make run` uses it): models already built are published, not retrained.
    # Its entries are keyed by what built them and verified before use, so sharing it is safe.
    env.setdefault("COMMERCE_AI_BUILD_CACHE", str(ROOT / ".commerce-ai" / "build-cache"))
    env.update(extra_env or {})
    command = [*console_script(), "--aws-port", str(aws_port), "up", "--http-port", str(http_port)]
    process = subprocess.Popen(
        [*command, "--ws-port", str(ws_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Ctrl-C as from a terminal: a run started in the background (nohup, `cmd &` in a script) passes
        # SIGINT on ignored, and Python keeps it ignored, so `up` would never see the Ctrl-C.
        preexec_fn=_interrupt_by_default,
    )
    launched = Launched(
        process, f"http://127.0.0.1:{http_port}", f"http://127.0.0.1:{aws_port}", f"ws://127.0.0.1:{ws_port}"
    )

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            launched.output.append(line)
            if on_line is not None:
                on_line(line)

    threading.Thread(target=pump, daemon=True).start()
    return launched


def stop(process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Ctrl-C first, so `up` stops the emulator it started; kill only if it does not exit."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def caller_key(state_dir: Path, kind: str) -> str:
    """A caller kind's key as `up` wrote it (README, "Callers and scopes"; `events` is the ingest key)."""
    name = {"events": "ingest-key", "ingest": "ingest-key"}.get(kind, f"{kind}-key")
    return (state_dir / name).read_text().strip()

"""Start-up: how long `commerce-ai up` takes until the stack is ready.

1. Warm (target: ready in 60 s or less): a second `commerce-ai up` in this clone, every model in the
   clone's build cache (`.commerce-ai/build-cache`, or COMMERCE_AI_BUILD_CACHE). If a capability is not
   cached yet, a first `up` fills the cache and is reported as such. Ready is the first `GET /health`
   answering 200: every function served, every model active, seeding done (it answers 503 until then).
   Baseline: `python -c "import boto3"`, median of 5, in the same run.
2. Fresh clone (`--fresh-clone`, on by default): `git clone` of this clone's HEAD into build/bench/, then
   `make .venv/.installed-run` (the install `make run` does) and a first `commerce-ai up` with an empty
   build cache, reported per stage from the `.commerce-ai/startup.json` that `up` writes.

Each `up` starts its own moto on a free port, with its own state directory under build/bench/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.emulator import free_port
from tests.benchmarks._report import Report, fmt_seconds, heading, median, ratio, table
from tests.benchmarks._stack import BENCH_DIR, python

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 1800.0  # a first start on a fresh clone trains every capability


@dataclass
class UpRun:
    ready_seconds: float  # launch -> first GET /health 200
    banner_seconds: float  # launch -> "commerce-ai is up"
    startup: dict[str, Any]  # the run's startup.json
    output: list[str] = field(default_factory=list)

    @property
    def models(self) -> dict[str, str]:
        return dict(self.startup.get("models", {}))

    def stage_rows(self) -> list[list[str]]:
        return [[s["scope"], s["stage"], fmt_seconds(s["seconds"])] for s in self.startup.get("stages", [])]


def time_up(clone: Path, state_dir: Path, build_cache: Path | None = None) -> UpRun:
    """Launch `commerce-ai up` in `clone`, time it to ready, stop it with Ctrl-C."""
    shutil.rmtree(state_dir, ignore_errors=True)
    state_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "ADMIN_API_KEY"}
    env["COMMERCE_AI_STATE_DIR"] = str(state_dir)
    env["COMMERCE_AI_BUILD_CACHE"] = str(build_cache or state_dir / "build-cache")
    aws_port, http_port = free_port(), free_port()
    script = clone / ".venv" / "bin" / "commerce-ai"
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(script), "--aws-port", str(aws_port), "up", "--http-port", str(http_port)],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    banner: list[float] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "commerce-ai is up" in line:
                banner.append(time.perf_counter() - started)

    threading.Thread(target=pump, daemon=True).start()
    ready = None
    try:
        with requests.Session() as http:
            while ready is None and time.perf_counter() - started < READY_TIMEOUT:
                if process.poll() is not None:
                    raise RuntimeError("commerce-ai up exited:\n" + "".join(output[-30:]))
                try:
                    if http.get(f"http://127.0.0.1:{http_port}/health", timeout=5).status_code == 200:
                        ready = time.perf_counter() - started
                except requests.RequestException:
                    pass
                time.sleep(0.1)
        if ready is None:
            raise RuntimeError(f"not ready within {READY_TIMEOUT:.0f}s:\n" + "".join(output[-30:]))
        deadline = time.monotonic() + 30
        while not banner and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    startup = json.loads((state_dir / "startup.json").read_text())
    return UpRun(ready, banner[0] if banner else float("nan"), startup, output)


def boto3_import(runs: int = 5) -> float:
    times = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        subprocess.run([python(), "-c", "import boto3"], check=True)
        times.append(time.perf_counter() - started)
    return median(times[1:])  # the first warms the disk cache


def run(report: Report, fresh_clone: bool = True) -> None:
    heading("STARTUP: commerce-ai up until GET /health answers 200 (every function served, every model active)")
    cache = Path(os.environ.get("COMMERCE_AI_BUILD_CACHE") or ROOT / ".commerce-ai" / "build-cache")
    state = BENCH_DIR / "startup"
    warm = time_up(ROOT, state / "warm", cache)
    if any(origin != "cached" for origin in warm.models.values()):
        took = fmt_seconds(warm.ready_seconds)
        print(f"\n  a first up filled the build cache ({cache}): {warm.models}; ready in {took}")
        warm = time_up(ROOT, state / "warm", cache)
    boto3 = boto3_import()
    print(f"\n  Second up in this clone, every model cached ({', '.join(sorted(warm.models))}):")
    print(
        table(
            ["measure", "time", "x import boto3"],
            [
                ["ready (/health 200)", fmt_seconds(warm.ready_seconds), f"{ratio(warm.ready_seconds, boto3):.0f}x"],
                ["banner printed", fmt_seconds(warm.banner_seconds), ""],
                ['baseline: python -c "import boto3"', fmt_seconds(boto3), "1x"],
            ],
        )
    )
    print(table(["scope", "stage", "time"], warm.stage_rows(), left=(0, 1)))
    verdict = "meets" if warm.ready_seconds <= 60 else "misses"
    report.add(
        "startup",
        "second up, all cached: ready",
        fmt_seconds(warm.ready_seconds),
        f"import boto3 {fmt_seconds(boto3)}",
        ratio(warm.ready_seconds, boto3),
        f"{verdict} the 60 s target",
    )
    if warm.ready_seconds > 60:
        report.problem(f"a cached start took {warm.ready_seconds:.1f} s to be ready, over the 60 s target")
    if fresh_clone:
        fresh(report, boto3)


def fresh(report: Report, boto3: float) -> None:
    clone = BENCH_DIR / "fresh-clone"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    started = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", ".venv/.installed-run"], cwd=clone, check=True)
    install = time.perf_counter() - started
    first = time_up(clone, clone / ".commerce-ai")
    rows = [["make", "install (venv + pip install -e '.[runtime,train]')", fmt_seconds(install)], *first.stage_rows()]
    rows.append(["total", "install + up until /health 200", fmt_seconds(install + first.ready_seconds)])
    print(f"\n  First run on a fresh clone ({clone}), empty build cache; import boto3 {fmt_seconds(boto3)}:")
    print(table(["scope", "stage", "time"], rows, left=(0, 1)))
    report.add(
        "startup",
        "fresh clone: install",
        fmt_seconds(install),
        f"import boto3 {fmt_seconds(boto3)}",
        ratio(install, boto3),
    )
    report.add(
        "startup",
        "fresh clone: up until ready",
        fmt_seconds(first.ready_seconds),
        f"import boto3 {fmt_seconds(boto3)}",
        ratio(first.ready_seconds, boto3),
        "builds every model",
    )

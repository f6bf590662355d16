"""Cold start: a brand-new Python process, as Lambda starts one, timed from spawn to exit.

1. Registry API: import functions/registry/app.py the way the runner (and Lambda) does, with the
   function's template environment and layer paths, then serve a first GET /models/{name} from a real
   API Gateway proxy event (DynamoDB query + pointer read + the manifest from S3 + the first heartbeat).
   Baseline: `python -c "import boto3"`.
2. Model cold load: ModelLoader(name).get() from an empty cache (registry pointer, manifest, download,
   sha256, onnxruntime session). Baseline: bare boto3 download_file + onnxruntime.InferenceSession of the
   same file.

Measured and baseline processes alternate, after one discarded warm-up each (disk cache, .pyc files),
so a noisy neighbour slows both; the median of the runs is the figure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.benchmarks._report import Report, fmt_ratio, fmt_seconds, heading, median, ratio, table
from tests.benchmarks._stack import LocalStack, python

PROBE = Path(__file__).with_name("_probe.py")
CHILD_TIMEOUT = 180


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Wall seconds for one new process; raises with its stderr if it fails."""
    started = time.perf_counter()
    proc = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(argv[:4])}... exited {proc.returncode}:\n{tail}")
    return elapsed


def _read(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _alternate(
    runs: int, measured: Callable[[int], float], baseline: Callable[[int], float]
) -> tuple[list[float], list[float]]:
    measured(-1)  # warm-ups: page cache and bytecode for both sides
    baseline(-1)
    m, b = [], []
    for i in range(runs):
        # Alternate which side goes first so neither always follows the other's cache effects.
        if i % 2:
            b.append(baseline(i))
            m.append(measured(i))
        else:
            m.append(measured(i))
            b.append(baseline(i))
    return m, b


def _phase(results: list[dict[str, Any]], key: str) -> str:
    return fmt_seconds(median([r[key] for r in results]))


def registry_api(local: LocalStack, runs: int, report: Report) -> None:
    spec = local.worker()
    path = f"/models/{local.model}"
    work = local.workdir / "cold-api"
    work.mkdir(parents=True, exist_ok=True)
    spec_file, event_file = work / "spec.json", work / "event.json"
    spec_file.write_text(json.dumps(asdict(spec)))
    event_file.write_text(json.dumps(local.api_event("GET", path)))
    # The function's environment exactly as the template gives it (HEARTBEAT_SECONDS 60: the first
    # invocation of a new container writes its heartbeat, as on Lambda).
    env = local.child_env(spec.environment)
    phases: list[dict[str, Any]] = []

    def measured(i: int) -> float:
        out = work / f"out-{i}.json"
        wall = _run([python(), str(PROBE), "api", str(spec_file), str(event_file), str(out)], env, work)
        result = _read(out)
        if result["active_version"] != local.version:
            raise RuntimeError(f"GET {path} answered active_version {result['active_version']!r}")
        if i >= 0:
            phases.append(result)
        return wall

    def baseline(_i: int) -> float:
        return _run([python(), "-c", "import boto3"], env, work)

    m, b = _alternate(runs, measured, baseline)
    cold, base = median(m), median(b)
    r = ratio(cold, base)
    print(f"\n  Registry API ({spec.function}): new process -> load_handler(app.app) -> GET {path} -> 200")
    print(
        table(
            ["median of " + str(runs), "wall", "ratio"],
            [
                ["cold start + first GET /models/{name}", fmt_seconds(cold), fmt_ratio(r)],
                ['baseline: python -c "import boto3"', fmt_seconds(base), "1.00x"],
            ],
        )
    )
    print(
        f"    breakdown (in-process, median): runner harness import {_phase(phases, 'harness_s')} "
        f"(not part of Lambda), handler import {_phase(phases, 'import_s')}, "
        f"first invocation {_phase(phases, 'invoke_s')}"
    )
    print(f"    all runs: measured {', '.join(fmt_seconds(x) for x in m)}")
    print(f"              baseline {', '.join(fmt_seconds(x) for x in b)}")
    report.add(
        "cold start",
        "registry API: import + first GET /models/{name}",
        fmt_seconds(cold),
        f'{fmt_seconds(base)} (python -c "import boto3")',
        r,
        f"median of {runs} new processes; includes {_phase(phases, 'harness_s')} local-runner import",
    )


def model_load(local: LocalStack, runs: int, report: Report) -> None:
    work = local.workdir / "cold-model"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    key = f"models/{local.model}/{local.version}/model.onnx"
    env = local.child_env(local.env)
    loader_phases: list[dict[str, Any]] = []
    bare_phases: list[dict[str, Any]] = []

    def measured(i: int) -> float:
        cache = work / f"cache-{i}"  # empty every time: a new container has nothing in /tmp
        out = work / f"loader-{i}.json"
        wall = _run(
            [python(), str(PROBE), "loader", local.model, local.version, str(out)],
            {**env, "MODEL_CACHE_DIR": str(cache)},
            work,
        )
        if i >= 0:
            loader_phases.append(_read(out))
        return wall

    def baseline(i: int) -> float:
        dest = work / f"bare-{i}" / "model.onnx"
        dest.parent.mkdir()
        out = work / f"bare-{i}.json"
        wall = _run([python(), str(PROBE), "bare", local.bucket, key, str(dest), str(out)], env, work)
        if i >= 0:
            bare_phases.append(_read(out))
        return wall

    m, b = _alternate(runs, measured, baseline)
    cold, base = median(m), median(b)
    r = ratio(cold, base)
    print(f"\n  Model cold load ({local.model}/{local.version}, empty cache each run)")
    print(
        table(
            ["median of " + str(runs), "wall", "import", "load", "ratio"],
            [
                [
                    "ModelLoader(name).get()",
                    fmt_seconds(cold),
                    _phase(loader_phases, "import_s"),
                    _phase(loader_phases, "load_s"),
                    fmt_ratio(r),
                ],
                [
                    "baseline: boto3 download_file + InferenceSession",
                    fmt_seconds(base),
                    _phase(bare_phases, "import_s"),
                    _phase(bare_phases, "load_s"),
                    "1.00x",
                ],
            ],
        )
    )
    print("    (loader 'load' includes its lazy onnxruntime import; the baseline imports onnxruntime up front)")
    report.add(
        "cold start",
        "model cold load: ModelLoader.get()",
        fmt_seconds(cold),
        f"{fmt_seconds(base)} (bare download + session)",
        r,
        f"median of {runs} new processes",
    )


def run(local: LocalStack, report: Report, runs: int = 7) -> None:
    heading(f"2. COLD START (new processes; {runs} measured runs each, interleaved with the baseline)")
    for name, bench in (("cold start: registry API", registry_api), ("cold start: model load", model_load)):
        try:
            bench(local, runs, report)
        except Exception as exc:
            report.error(name, exc)

"""What runs inside each new process of the cold-start benchmark. Run as a script, not imported:

    python _probe.py api SPEC.json EVENT.json OUT.json     # import the handler as Lambda would, first call
    python _probe.py loader MODEL VERSION OUT.json         # ModelLoader(MODEL).get() from an empty cache
    python _probe.py bare BUCKET KEY DEST OUT.json         # baseline: boto3 download_file + InferenceSession

Only the standard library is imported before the timed steps. The process's wall time is measured by
the parent (interpreter start to exit); the phases timed here only break it down.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any


def _write(path: str, result: dict[str, object]) -> None:
    with open(path, "w") as handle:
        json.dump(result, handle)


def api(spec_path: str, event_path: str, out: str) -> None:
    started = time.perf_counter()
    # The local runner's own modules: not part of a Lambda cold start, so timed apart.
    from pathlib import Path

    from infra.runner.context import LambdaContext
    from infra.runner.invoker import load_handler

    harness = time.perf_counter()
    with open(spec_path) as handle:
        spec = json.load(handle)
    with open(event_path) as handle:
        event = json.load(handle)
    for path in reversed(spec["extra_paths"]):  # /opt/python on Lambda
        sys.path.insert(0, path)
    handler = load_handler(Path(spec["code_uri"]), spec["module"], spec["attribute"])
    imported = time.perf_counter()
    context = LambdaContext(spec["function"], memory_limit_in_mb=spec["memory"], timeout_seconds=spec["timeout"])
    response = handler(event, context)
    done = time.perf_counter()
    if not isinstance(response, dict) or response.get("statusCode") != 200:
        raise SystemExit(f"first invocation did not succeed: {response!r}"[:2000])
    body = json.loads(response["body"])
    _write(
        out,
        {
            "harness_s": harness - started,
            "import_s": imported - harness,
            "invoke_s": done - imported,
            "active_version": body.get("active_version"),
            "intent": body.get("intent"),
        },
    )


def loader(model: str, version: str, out: str) -> None:
    started = time.perf_counter()
    from commerce_ai.artifacts.loader import ModelLoader

    imported = time.perf_counter()
    loaded = ModelLoader[object](model).get()
    done = time.perf_counter()
    session: Any = loaded.model
    if loaded.version != version or not session.get_inputs():
        raise SystemExit(f"loaded {loaded.name}/{loaded.version}, expected {model}/{version}")
    _write(out, {"import_s": imported - started, "load_s": done - imported})


def bare(bucket: str, key: str, dest: str, out: str) -> None:
    started = time.perf_counter()
    import boto3
    import onnxruntime as ort

    imported = time.perf_counter()
    boto3.client("s3").download_file(bucket, key, dest)
    # Same session options as commerce_ai.artifacts.frameworks.onnx_session, so only the platform's
    # own work (registry lookup, manifest, checksum, imports) separates the two.
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(dest, sess_options=options, providers=["CPUExecutionProvider"])
    done = time.perf_counter()
    if not session.get_inputs():
        raise SystemExit("bare session has no inputs")
    _write(out, {"import_s": imported - started, "load_s": done - imported})


if __name__ == "__main__":
    modes: dict[str, Callable[..., None]] = {"api": api, "loader": loader, "bare": bare}
    modes[sys.argv[1]](*sys.argv[2:])

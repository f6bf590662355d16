"""Invoke handlers the way Lambda does: `handler(event, context)` in a process of the function's own.

Each function gets a worker process (spawned, not forked) with exactly the environment the template
gives it, its CodeUri and layers on `sys.path`, and stdout/stderr going to its log file. Module-level
state survives between invocations, as in a warm container. A handler that exceeds the function's
Timeout is killed and its worker replaced (the next call is a cold start), as Lambda would.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from infra.runner.context import LambdaContext
from infra.runner.faults import FAULTS_ENV
from infra.runner.faults import install as install_faults
from infra.template import Function

# What a Lambda sandbox also has: a PATH and a locale; everything else comes from the template.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


Invoke = Callable[[str, dict[str, Any]], Any]
"""How runner components call a function: (logical id, event) -> result, raising InvocationError."""


class InvocationError(Exception):
    """The handler raised, timed out or its process died. `error_type` mirrors Lambda's errorType."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


@dataclass(frozen=True)
class WorkerSpec:
    function: str
    code_uri: str
    module: str
    attribute: str
    environment: dict[str, str]
    extra_paths: list[str]
    log_path: str | None
    memory: int
    timeout: int


def load_handler(code_uri: Path, module: str, attribute: str) -> Any:
    """Import `module` from `code_uri` under a unique name, so two functions' `app.py` never collide."""
    path = code_uri / (module.replace(".", "/") + ".py")
    unique = f"_fn_{abs(hash(str(code_uri)))}_{module.replace('.', '_')}"
    if unique in sys.modules:
        return getattr(sys.modules[unique], attribute)
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import handler module {path}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[unique] = loaded
    if str(code_uri) not in sys.path:
        sys.path.insert(0, str(code_uri))
    spec.loader.exec_module(loaded)
    return getattr(loaded, attribute)


def _worker_main(spec: WorkerSpec, conn: Connection) -> None:
    # Ctrl-C reaches the whole process group; the runner stops workers itself, in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if spec.log_path:
        log = os.open(spec.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
    else:  # a one-off `commerce-ai invoke`: the function's logs go to stderr, its result alone to stdout
        os.dup2(2, 1)
    # Exactly the template's environment, as on Lambda: nothing leaks in from the runner's shell.
    kept = {k: v for k, v in os.environ.items() if k in _INHERITED}
    fault_plan = os.environ.get(FAULTS_ENV)  # the campaigns' fault plan is the runner's, not the function's
    os.environ.clear()
    os.environ.update(kept)
    os.environ.update(spec.environment)
    if fault_plan:
        install_faults(fault_plan, spec.function)
    for path in reversed(spec.extra_paths):
        sys.path.insert(0, path)
    try:
        handler = load_handler(Path(spec.code_uri), spec.module, spec.attribute)
    except BaseException as exc:  # report import errors per invocation, as Lambda's Runtime.ImportModuleError
        handler = None
        import_error = ("Runtime.ImportModuleError", f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
    while True:
        try:
            event = conn.recv()
        except EOFError:
            return
        if handler is None:
            conn.send(("error", *import_error))
            continue
        context = LambdaContext(spec.function, memory_limit_in_mb=spec.memory, timeout_seconds=spec.timeout)
        try:
            result = handler(event, context)
            conn.send(("ok", json.loads(json.dumps(result, default=str))))
        except BaseException as exc:
            traceback.print_exc()
            conn.send(("error", type(exc).__name__, str(exc)[:1000]))
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


class FunctionWorker:
    """One warm 'container' for a function; invocations are serialised like a single Lambda instance."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._closed = False

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_worker_main, args=(self.spec, child), name=f"lambda:{self.spec.function}", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            if self._closed:
                raise InvocationError("Runtime.Stopped", "the local runner is shutting down")
            if self._process is None or not self._process.is_alive():
                self._start()
            assert self._conn is not None
            try:
                self._conn.send(event)
                if not self._conn.poll(self.spec.timeout + 30):  # + import time on a cold start
                    self._kill()
                    raise InvocationError("Sandbox.Timedout", f"Task timed out after {self.spec.timeout} seconds")
                status, *payload = self._conn.recv()
            except (EOFError, OSError) as exc:  # the worker died, or was stopped under us
                self._kill()
                raise InvocationError("Runtime.ExitError", "the function's process died") from exc
            if status == "error":
                raise InvocationError(payload[0], payload[1])
            return payload[0]

    def _kill(self) -> None:
        process = self._process
        if process is not None and process.is_alive():
            process.kill()
            process.join(timeout=5)
        self._process = None
        self._conn = None

    def stop(self) -> None:
        """Stop at once, even mid-invocation (that call fails), and refuse any later invocation."""
        self._closed = True
        process = self._process
        if process is not None and process.is_alive():
            process.kill()  # without the lock: an in-flight call must not delay shutdown by its timeout
            process.join(timeout=5)


def worker_spec(fn: Function, layer_dirs: list[Path], base_env: dict[str, str], log_dir: Path | None) -> WorkerSpec:
    environment = {
        **base_env,
        **fn.environment,
        "AWS_LAMBDA_FUNCTION_NAME": fn.physical_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}_local",
    }
    if log_dir is not None:
        # Per-function model cache, so functions do not share files any more than they would on AWS.
        environment["MODEL_CACHE_DIR"] = str(log_dir.parent / "cache" / fn.logical_id)
    return WorkerSpec(
        function=fn.physical_name,
        code_uri=str(fn.code_uri),
        module=fn.module,
        attribute=fn.attribute,
        environment=environment,
        # Layers are unpacked under /opt/python on Lambda; locally the package is installed in the venv,
        # so only layer dirs holding importable code are added.
        extra_paths=[str(d) for d in layer_dirs if any(d.glob("*/__init__.py"))],
        log_path=str(log_dir / f"{fn.logical_id}.log") if log_dir else None,
        memory=fn.memory,
        timeout=fn.timeout,
    )

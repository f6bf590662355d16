"""The local stack the runtime benchmarks measure against: a moto server on a free port, the real
template bootstrapped in it, and one real ONNX model published, validated and activated.

Mirrors tests/conftest.py (which is pytest fixtures, so it is not imported here): same emulator start,
same bootstrap, same merged function environment. Everything is undone on exit, moto included, even
when a benchmark raises.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from commerce_ai.artifacts import validation
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from infra import emulator as emu
from infra.bootstrap import bootstrap
from infra.runner.http_gateway import Gateway, Route
from infra.runner.invoker import WorkerSpec, worker_spec
from infra.template import Env, Function, Stack
from model_build import Built, publish
from tests.support.local_aws import function_environment, patched_environ
from tests.support.models import FEATURES, built_linear

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = ROOT / "build"
BENCH_DIR = BUILD_DIR / "bench"
ADMIN_KEY = "bench-admin-key-0123456789"
INGEST_KEY = "bench-ingest-key-0123456789"
MODEL_NAME = "bench-scorer"
API_FUNCTION = "RegistryApiFunction"
# Heartbeats are throttled to one DynamoDB write per HEARTBEAT_SECONDS (60 in the template). In-process
# warm loops run far more calls than that in a minute, so they raise it to keep the write out of the sample.
WARM_HEARTBEAT_SECONDS = "3600"
# Variables a child process needs from the parent that are not the function's own (Lambda has a PATH too).
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE")


def serve(store: ArtifactStore, registry: ModelRegistry, built: Built, scratch: Path) -> Manifest:
    """Publish `built`, register it the way the platform does (the artifact-events validation: download,
    verify, open) and make it the active version."""
    manifest = publish(store, built)
    result = validation.validate_version(store, registry, manifest.name, manifest.version, scratch=scratch)
    if result.outcome not in ("registered", "unchanged"):
        raise RuntimeError(f"{manifest.name} was not registered: {result}")
    registry.activate(manifest.name, manifest.version)
    return manifest


@dataclass
class LocalStack:
    emulator: emu.Emulator
    stack: Stack
    env: dict[str, str]  # what the process now runs with: endpoint, credentials, merged function env
    workdir: Path
    model: str
    version: str

    @property
    def bucket(self) -> str:
        return self.stack.physical_name("ArtifactBucket")

    @property
    def table(self) -> str:
        return self.stack.physical_name("ModelRegistryTable")

    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.table)

    def store(self) -> ArtifactStore:
        return ArtifactStore(self.bucket)

    def serve(self, built: Built) -> Manifest:
        """`built` published, validated and active in this stack."""
        return serve(self.store(), self.registry(), built, self.workdir)

    def function(self, logical_id: str = API_FUNCTION) -> Function:
        return self.stack.function(logical_id)

    def worker(self, logical_id: str = API_FUNCTION) -> WorkerSpec:
        """The function as the local runner would start it: its environment, code dir and layer paths."""
        fn = self.function(logical_id)
        return worker_spec(fn, self.stack.layer_dirs(fn), self.emulator.environ(), log_dir=None)

    def child_env(self, environment: dict[str, str]) -> dict[str, str]:
        """A clean environment for a new process: `environment` plus PATH-like basics, nothing inherited."""
        base = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        return {**base, **environment, "PYTHONUNBUFFERED": "1"}

    def api_event(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> dict[str, object]:
        """A real API Gateway (REST, proxy) event for `method path` (with a JSON `body` and extra `headers`,
        if given), routed by the template's Api events."""
        routes = [
            Route.make(str(e.properties["Method"]), str(e.properties["Path"]), fn.logical_id)
            for fn in self.stack.functions()
            for e in fn.events
            if e.type == "Api"
        ]
        gateway = Gateway(routes, invoke=lambda _fn, _event: None)
        route, params, _known = gateway.match(method, path)
        if route is None:
            raise LookupError(f"template.yaml has no Api route for {method} {path}")
        request_headers = {
            "Host": "bench.execute-api.us-east-1.amazonaws.com",
            "User-Agent": "commerce-ai-bench",
            "Accept": "application/json",
        }
        if body:
            request_headers["Content-Type"] = "application/json"
        request_headers.update(headers or {})
        return gateway.proxy_event(route, method, path, "", request_headers, body, params, "203.0.113.10")


def python() -> str:
    return sys.executable


@contextmanager
def local_stack(workdir: Path | None = None) -> Iterator[LocalStack]:
    workdir = workdir or BENCH_DIR
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "moto.log"
    log.unlink(missing_ok=True)
    server = emu.start_moto_on_a_free_port(log_path=log)
    try:
        with patched_environ(server.environ()):
            stack = Stack(env=Env(queue_endpoint=server.endpoint))
            bootstrap(stack, admin_key=ADMIN_KEY, ingest_key=INGEST_KEY)
            env = function_environment(stack, workdir / "model-cache", WARM_HEARTBEAT_SECONDS)
            with patched_environ(env):
                store = ArtifactStore(stack.physical_name("ArtifactBucket"))
                registry = ModelRegistry(stack.physical_name("ModelRegistryTable"))
                built = built_linear(workdir / "model-src", name=MODEL_NAME, weights=[0.5, -1.0, 2.0])
                manifest = serve(store, registry, built, workdir)
                yield LocalStack(
                    emulator=server,
                    stack=stack,
                    env={**server.environ(), **env},
                    workdir=workdir,
                    model=manifest.name,
                    version=manifest.version,
                )
    finally:
        server.stop()


FEATURE_WIDTH = len(FEATURES)

"""The one way handlers get a model: active version from the registry, verified files, last good kept.

- Downloads to the cache dir (/tmp on Lambda), verifies sha256 and keeps the opened model in memory
  across warm invocations.
- Re-reads the active pointer at most every `refresh_seconds`, so an activation takes effect without a
  redeploy and the hot path costs one clock read.
- A version that is corrupt, fails to open or does not match the features serving builds is refused
  (and remembered as refused); the last good version keeps serving. With none, `ModelUnavailable`.
- `version=` pins one version instead of following the pointer (an experiment's arm): it is served once
  the registry knows it and has not quarantined it, with the same verification; once loaded, it is kept.
- What is loaded is what was validated: a version the registry does not hold as a candidate is refused,
  and so is a manifest whose digest differs from the one registered at validation, or a manifest or file
  that is no longer the S3 object version validation recorded (an overwrite in the versioned bucket).
- A container with nothing loaded yet whose active version cannot load falls back to the newest earlier
  version in the pointer's history that does (`FALLBACK_DEPTH` at most), and says so in its logs; it moves
  to the active version once that one loads (an operator's fix, or a new activation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from commerce_ai.artifacts.frameworks import SchemaMismatch, open_artifact, release
from commerce_ai.artifacts.manifest import MANIFEST_FILE, Manifest
from commerce_ai.artifacts.registry import QUARANTINED, ModelRegistry
from commerce_ai.artifacts.store import ArtifactError, ArtifactStore, clear_cache
from commerce_ai.artifacts.validation import manifest_digest
from commerce_ai.config import settings
from commerce_ai.errors import ModelUnavailable, safe_reason
from commerce_ai.telemetry import logger

T = TypeVar("T")
FALLBACK_DEPTH = 3  # earlier versions a cold container tries when the active one cannot load


@dataclass(frozen=True)
class LoadedModel(Generic[T]):
    name: str
    version: str
    manifest: Manifest
    model: T
    directory: Path


class ModelLoader(Generic[T]):
    def __init__(
        self,
        name: str,
        *,
        expected_features: Sequence[str] | None = None,
        registry: ModelRegistry | None = None,
        store: ArtifactStore | None = None,
        refresh_seconds: float | None = None,
        cache_dir: Path | None = None,
        opener: Callable[[Manifest, Path], T] = open_artifact,
        clock: Callable[[], float] = time.monotonic,
        version: str | None = None,
    ) -> None:
        config = settings()
        self.name = name
        self.pinned_version = version
        self.expected_features = list(expected_features) if expected_features is not None else None
        self.registry = registry or ModelRegistry(config.need("registry_table"))
        self.store = store or ArtifactStore(config.need("artifact_bucket"))
        self.refresh_seconds = config.model_refresh_seconds if refresh_seconds is None else refresh_seconds
        self.cache_dir = cache_dir or Path(config.model_cache_dir)
        self.opener = opener
        self.clock = clock
        self.refused: dict[str, str] = {}
        self.last_error: str | None = None
        self._current: LoadedModel[T] | None = None
        self._checked_at: float | None = None
        self._history: list[str] = []
        self.fallback_from: str | None = None  # the active version this container could not load, if any
        self._lock = threading.Lock()

    @property
    def current(self) -> LoadedModel[T] | None:
        return self._current

    def get(self) -> LoadedModel[T]:
        with self._lock:
            now = self.clock()
            if self._checked_at is None or now - self._checked_at >= self.refresh_seconds:
                self._checked_at = now
                self._refresh()
            if self._current is None:
                problems = [f"{v}: {why}" for v, why in self.refused.items()]
                if self.last_error:
                    problems.append(f"{self.last_error} (transient, retrying)")
                reason = "; ".join(problems) or "no active version"
                raise ModelUnavailable(f"model {self.name!r} is unavailable ({reason})")
            return self._current

    def _wanted_version(self) -> str | None:
        """The version to serve: the active one, or the pinned one if the registry has it unquarantined."""
        if self.pinned_version is None:
            pointer = self.registry.pointer(self.name)
            self._history = list(pointer.history) if pointer is not None else []
            return pointer.active_version if pointer is not None else None
        return self.pinned_version  # never moves; `_load` refuses it if quarantined, retries if unregistered

    def _refresh(self) -> None:
        try:
            active = self._wanted_version()
        except Exception as exc:  # a registry blip must not take serving down; keep what we have
            self.last_error = f"registry: {type(exc).__name__}"
            if self._current is None:
                self._checked_at = None
            logger.warning("registry lookup failed; serving cached version", extra={"model": self.name})
            return
        if active is None:
            return
        if active in self.refused:
            self._fall_back(active)
            return
        self.last_error = None
        if self._current is not None and self._current.version == active:
            return
        try:
            previous = self._current
            self._current = self._load(active)
            self.fallback_from = None
            logger.info("model loaded", extra={"model": self.name, "version": active})
            if previous is not None:  # a warm container must not accumulate every version it ever served
                release(previous.directory)
                clear_cache(self.cache_dir, self.name, previous.version)
        except (ArtifactError, SchemaMismatch, ValueError) as exc:
            # The artifact itself is bad: remember it, so it is not fetched again until the pointer moves.
            self.refused[active] = safe_reason(exc, typed=False)
            logger.error(
                "model version refused; keeping last good",
                extra={
                    "model": self.name,
                    "version": active,
                    "serving": self._current.version if self._current else None,
                    "reason": self.refused[active],
                },
            )
            self._fall_back(active)
        except Exception as exc:  # S3/DynamoDB blips, full /tmp: keep serving; retry at the next refresh,
            # or at the next request when there is nothing to serve yet.
            self.last_error = f"{active}: {type(exc).__name__}"
            if self._current is None:
                self._checked_at = None
            logger.warning(
                "model version could not be fetched; serving cached version",
                exc_info=True,
                extra={"model": self.name, "version": active},
            )

    def _fall_back(self, active: str) -> None:
        """With nothing to serve, load the newest earlier version of the pointer's history that loads."""
        if self._current is not None or self.pinned_version is not None:
            return
        for earlier in [v for v in reversed(self._history) if v != active][:FALLBACK_DEPTH]:
            if earlier in self.refused:
                continue
            try:
                self._current = self._load(earlier)
            except (ArtifactError, SchemaMismatch, ValueError) as exc:
                self.refused[earlier] = safe_reason(exc, typed=False)
                continue
            except Exception:  # a blip: retry at the next refresh
                self._checked_at = None
                return
            self.fallback_from = active
            logger.error(
                "active model version cannot load; serving an earlier one",
                extra={"model": self.name, "version": active, "serving": earlier, "reason": self.refused[active]},
            )
            return

    def _load(self, version: str) -> LoadedModel[T]:
        record = self.registry.get_version(self.name, version)  # NotFound: not validated yet, retried
        if record.state == QUARANTINED:
            raise ArtifactError(f"{self.name}/{version} is quarantined: {record.reason or 'no reason recorded'}")
        manifest = self.store.read_manifest(self.name, version, record.object_versions.get(MANIFEST_FILE))
        if manifest_digest(manifest) != record.manifest_sha256:
            raise ArtifactError(f"{self.name}/{version}: the manifest is not the one validated")
        if self.expected_features is not None and manifest.input_schema.feature_names != self.expected_features:
            raise SchemaMismatch(
                f"features {manifest.input_schema.feature_names} differ from serving's {self.expected_features}"
            )
        directory = self.store.download(manifest, self.cache_dir, record.object_versions)
        try:
            model = self.opener(manifest, directory)
        except SchemaMismatch:
            raise
        except Exception as exc:  # the files are verified and local, so failing to open them is the artifact's fault
            raise SchemaMismatch(str(exc)) from exc
        return LoadedModel(self.name, version, manifest, model, directory)

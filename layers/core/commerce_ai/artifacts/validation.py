"""Validate an artifact version end to end and record the verdict in the registry.

Used by the registry's event consumer and sweep, and by jobs that publish a model and want it checked
before they activate it (the risk graph rebuild, the risk challenger).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from commerce_ai.artifacts.frameworks import SchemaMismatch, open_artifact, release
from commerce_ai.artifacts.manifest import Manifest
from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactError, ArtifactFileMissing, ArtifactStore

# "waiting": the manifest names a file the bucket does not hold (yet); nothing was recorded.
Outcome = Literal["registered", "unchanged", "quarantined", "waiting", "error"]


@dataclass(frozen=True)
class ValidationResult:
    name: str
    version: str
    outcome: Outcome
    reason: str | None = None


def manifest_digest(manifest: Manifest) -> str:
    return hashlib.sha256(manifest.model_dump_json().encode()).hexdigest()


def validate_version(
    store: ArtifactStore,
    registry: ModelRegistry,
    name: str,
    version: str,
    scratch: Path | None = None,
    *,
    wait_for_files: bool = False,
) -> ValidationResult:
    """Check a version end to end and record the verdict: candidate if it is sound, else quarantined.

    Sound means: the manifest parses and is within the size caps, every file matches its sha256, and the
    model opens with its capability's own opener (`frameworks.register_model_opener`: a risk model needs
    its policy file) with inputs and outputs exactly as the manifest declares. The registry records the
    manifest's digest and the S3 object versions checked, which the loader then insists on. Transient AWS
    errors propagate so the event is retried. With `wait_for_files`, a file the manifest names but the
    bucket does not hold (an uploader that sent the manifest before its files) records nothing and answers
    `waiting`, so the caller can try again later; a file that is there but wrong is quarantined either way.
    """
    try:
        manifest = store.read_manifest(name, version)
    except ArtifactError as exc:
        registry.quarantine(name, version, "-", str(exc))
        return ValidationResult(name, version, "quarantined", str(exc))
    digest = manifest_digest(manifest)
    work = Path(tempfile.mkdtemp(prefix="validate-", dir=scratch))
    try:
        object_versions = store.object_versions(manifest)  # before the download: what was checked is pinned
        directory = store.download(manifest, work, object_versions)
        open_artifact(manifest, directory)  # the capability's own opener where it registered one
    except (ArtifactError, SchemaMismatch, ValueError) as exc:
        reason = str(exc)[:1000]
        if wait_for_files and isinstance(exc, ArtifactFileMissing):
            return ValidationResult(name, version, "waiting", reason)
        registry.quarantine(name, version, digest, reason)
        return ValidationResult(name, version, "quarantined", reason)
    finally:
        release(work)  # a validator opens many versions; none may stay in memory
        shutil.rmtree(work, ignore_errors=True)
    created = registry.register_candidate(name, version, digest, manifest.summary(), object_versions)
    return ValidationResult(name, version, "registered" if created else "unchanged")

"""Registry domain logic, free of handlers: what the registry functions do, testable without AWS."""

from __future__ import annotations

from typing import Any

from commerce_ai.artifacts.manifest import parse_manifest_key
from commerce_ai.artifacts.metrics import Regression, regressions
from commerce_ai.artifacts.registry import ModelRegistry, Pointer
from commerce_ai.artifacts.store import ArtifactError, ArtifactStore
from commerce_ai.artifacts.validation import ValidationResult, validate_version
from commerce_ai.errors import Conflict, NotFound
from commerce_ai.s3_notifications import ObjectCreated
from commerce_ai.telemetry import logger

# How many times SQS delivers an artifact event before the DLQ: the template's ArtifactEventsQueue
# maxReceiveCount (a test keeps the two equal). A manifest whose files are not all there yet is retried
# until its last delivery, which quarantines it instead, so the registry still records a verdict.
MANIFEST_EVENT_ATTEMPTS = 3


class FilesNotThereYet(RuntimeError):
    """A manifest arrived before all of its files: the event is retried (partial batch failure)."""


def handle_object_created(
    store: ArtifactStore, registry: ModelRegistry, created: ObjectCreated, attempt: int = MANIFEST_EVENT_ATTEMPTS
) -> ValidationResult | None:
    """Validate the version a new manifest announces. On the event's `attempt`-th delivery (from 1), a
    file that is not there yet raises FilesNotThereYet so the event is retried, until the last delivery,
    which quarantines the version."""
    parsed = parse_manifest_key(created.key)
    if parsed is None or created.bucket != store.bucket:
        return None
    result = validate_version(store, registry, *parsed, wait_for_files=attempt < MANIFEST_EVENT_ATTEMPTS)
    if result.outcome == "waiting":
        raise FilesNotThereYet(f"{result.name}/{result.version} (delivery {attempt}): {result.reason}")
    return result


def reconcile(store: ArtifactStore, registry: ModelRegistry) -> list[ValidationResult]:
    """Validate every manifest in the bucket that the registry has never seen (a missed event). A version
    whose files are not all there yet is left `waiting`, unrecorded, for the next sweep."""
    known: dict[str, set[str]] = {}
    results = []
    for name, version in store.manifest_keys():
        if name not in known:
            known[name] = {v.version for v in registry.versions(name)}
        if version in known[name]:
            continue
        try:
            results.append(validate_version(store, registry, name, version, wait_for_files=True))
        except Exception as exc:  # one unreadable version must not stop the sweep for all after it
            logger.warning(
                "reconcile could not validate a version", extra={"model": name, "version": version}, exc_info=True
            )
            results.append(ValidationResult(name, version, "error", type(exc).__name__))
    return results


def list_models(registry: ModelRegistry) -> list[dict[str, Any]]:
    models = []
    for name, (pointer, versions) in registry.snapshots().items():
        active = next((v for v in versions if pointer and v.version == pointer.active_version), None)
        models.append(
            {
                "name": name,
                "active_version": pointer.active_version if pointer else None,
                "metrics": active.summary.get("metrics", {}) if active else {},
                "versions": len(versions),
                "candidates": sum(1 for v in versions if v.state == "candidate" and v is not active),
                "quarantined": sum(1 for v in versions if v.state == "quarantined"),
            }
        )
    return models


def describe_model(registry: ModelRegistry, store: ArtifactStore, name: str) -> dict[str, Any]:
    """A model's versions, newest first, with the active version's input/output schema from S3."""
    pointer, versions = registry.snapshot(name)
    if not versions:
        raise NotFound(f"model {name!r} is not registered")
    active = pointer.active_version if pointer else None
    schema: dict[str, Any] | None = None
    problem = None
    if active:
        try:
            manifest = store.read_manifest(name, active)
            schema = {
                "input": manifest.input_schema.model_dump(),
                "output": [t.model_dump() for t in manifest.output_schema],
            }
        except ArtifactError as exc:  # the registry still answers; serving will refuse this version too
            problem = str(exc)
    return {
        "name": name,
        "active_version": active,
        "rollback_to": pointer.history[-1] if pointer and pointer.history else None,
        "active_schema": schema,
        "active_problem": problem,
        "versions": [v.as_json(active) for v in sorted(versions, key=lambda v: v.version, reverse=True)],
    }


def activate(registry: ModelRegistry, name: str, version: str, force: bool = False) -> tuple[Pointer, list[Regression]]:
    """Activate `version`, unless its holdout metrics are worse than the active version's and `force` is not
    set (409 naming each). Forced, the answer still lists what the new version is worse at."""
    candidate = registry.get_version(name, version)
    current = registry.pointer(name)
    worse: list[Regression] = []
    if current is not None and current.active_version != version:
        active = registry.get_version(name, current.active_version)
        worse = regressions(candidate.summary.get("metrics", {}), active.summary.get("metrics", {}))
    if worse and not force:
        raise Conflict(
            f"{name}/{version} is worse than the active {current.active_version if current else ''} on "
            + "; ".join(r.describe() for r in worse)
            + '. Send "force": true to activate it anyway.',
            [r.__dict__ for r in worse],
        )
    return registry.activate(name, version), worse

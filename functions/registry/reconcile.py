"""Scheduled handler: register any artifact version whose S3 notification was missed.

Notifications can be lost (the bucket's notification configured after an upload, or an event that
exhausted its retries). This sweep makes the registry converge on what the bucket holds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.registry import service
from commerce_ai.telemetry import instrumented, logger


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    store = ArtifactStore(settings().need("artifact_bucket"))
    registry = ModelRegistry(settings().need("registry_table"))
    results = service.reconcile(store, registry)
    outcomes = Counter(r.outcome for r in results)
    logger.info("reconciled artifact registry", extra={"outcomes": dict(outcomes)})
    return {"checked": len(results), "outcomes": dict(outcomes)}

"""Scheduled handler (daily): folds the add-log of uploaded images into a new `visual-index` version and
activates it (`commerce_ai.visual.rebuild`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.telemetry import instrumented, logger
from commerce_ai.visual import service
from commerce_ai.visual.deltas import DeltaLog
from commerce_ai.visual.rebuild import rebuild_index


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rebuilt = rebuild_index(
        service.index_loader().get(),
        DeltaLog.from_settings(),
        ArtifactStore(settings().need("artifact_bucket")),
        ModelRegistry(settings().need("registry_table")),
        datetime.now(UTC),
    )
    logger.info("visual index rebuilt", extra=rebuilt.summary())
    return rebuilt.summary()

"""Scheduled handler (weekly): the feature-library update. Rebuilds the graph features from the last four
weeks of scored transactions and their labels and activates them as a new `risk-graph` version.

The challenger model is trained by RiskChallengerFunction (a container image: the training libraries do
not fit a zip function).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.risk import service
from commerce_ai.risk.weekly import rebuild_graph
from commerce_ai.telemetry import instrumented, logger


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    rebuilt = rebuild_graph(
        service.store(),
        ArtifactStore(settings().need("artifact_bucket")),
        ModelRegistry(settings().need("registry_table")),
        datetime.now(UTC),
    )
    logger.info("risk graph rebuilt", extra=rebuilt.summary())
    return rebuilt.summary()

"""Scheduled handler (weekly): train a challenger fraud model on recently scored, labelled transactions,
register it, and activate it only if it beats the champion on a holdout (`model_build.risk.challenger`).

A container-image function: XGBoost, scipy and the ONNX converter do not fit a 250 MB zip function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.telemetry import instrumented, logger


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from commerce_ai.risk import service
    from model_build.risk.challenger import run_challenger  # the training stack: imported only when it runs

    result = run_challenger(
        service.store(),
        ArtifactStore(settings().need("artifact_bucket")),
        ModelRegistry(settings().need("registry_table")),
        datetime.now(UTC),
    )
    logger.info("risk challenger", extra=result.summary())
    return result.summary()

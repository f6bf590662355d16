"""Scheduled handler (daily): retrain `recommendations-ranker` from the behaviour-event archive and the shop's
catalogue, publish it as a candidate, and activate it only if it beats the champion on the protocol's
validation items (`model_build.recommendations.retrain`).

A container-image function: torch (the Wide&Deep ranker trains with it), pandas and the ONNX exporter do
not belong in a zip inference function.
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
    from commerce_ai.erasure import ErasureLog
    from commerce_ai.recommendations import service
    from commerce_ai.stream.settings import archive_bucket
    from model_build.recommendations.retrain import run_retrain  # the training stack: imported only when it runs

    result = run_retrain(
        archive_bucket(),
        service.catalogue(),
        ArtifactStore(settings().need("artifact_bucket")),
        ModelRegistry(settings().need("registry_table")),
        datetime.now(UTC),
        ErasureLog.from_settings().erased_hashes(),  # erased users' archived events are left out
    )
    logger.info("recommendations retrain", extra=result.summary())
    return result.summary()

"""SQS handler: S3 notifications for new `manifest.json` objects -> validate and register (or quarantine).

The bucket sends object-created notifications for `models/**/manifest.json` to the artifact-events queue
(see template.yaml). One poison message fails alone (partial batch response) and reaches the DLQ after
the queue's maxReceiveCount. Validation is idempotent, so a redelivered message changes nothing. A
manifest that arrives before its files fails its record too, so SQS delivers it again after the
visibility timeout; its last delivery quarantines the version if a file is still missing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.artifacts.registry import ModelRegistry
from commerce_ai.artifacts.store import ArtifactStore
from commerce_ai.config import settings
from commerce_ai.messages import QueueProcessor
from commerce_ai.registry import service
from commerce_ai.s3_notifications import parse_s3_notification
from commerce_ai.telemetry import instrumented, logger

# A manifest waiting for its files is retried like bad input is refused: every such record back to the
# queue, never raised as a broken function (it must not mark the function failing in /health).
processor = QueueProcessor(expected_failures=(service.FilesNotThereYet,))


def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    logger.append_keys(message_id=record.message_id)
    store = ArtifactStore(settings().need("artifact_bucket"))
    registry = ModelRegistry(settings().need("registry_table"))
    results = []
    attempt = int(record.attributes.approximate_receive_count)
    for created in parse_s3_notification(record.body):
        result = service.handle_object_created(store, registry, created, attempt)
        if result is not None:
            logger.info(
                "artifact validated",
                extra={
                    "model": result.name,
                    "version": result.version,
                    "outcome": result.outcome,
                    "reason": result.reason,
                },
            )
            results.append({"name": result.name, "version": result.version, "outcome": result.outcome})
    return results


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

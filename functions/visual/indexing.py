"""SQS handler: S3 notifications of product images uploaded under `catalog/images/` in the uploads bucket ->
embedded and logged, searchable without a rebuild (`commerce_ai.visual.indexing`).

An image that does not decode is refused for good and its record succeeds (retrying cannot fix it); a message
that is not an S3 notification, or an S3, DynamoDB or model error, fails its record alone (partial batch
response) and reaches the DLQ after maxReceiveCount. A redelivery logs the same entry again: harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.catalog.settings import settings as catalog_settings
from commerce_ai.messages import QueueProcessor
from commerce_ai.s3_notifications import parse_s3_notification
from commerce_ai.telemetry import instrumented, logger
from commerce_ai.uploads import Uploads
from commerce_ai.visual import service
from commerce_ai.visual.deltas import DeltaLog
from commerce_ai.visual.indexing import index_upload

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    uploads = Uploads(catalog_settings().need("uploads_bucket"))
    done = []
    for created in parse_s3_notification(record.body):
        if created.bucket != uploads.bucket:
            continue
        loaded = service.index_loader().get()
        outcome = index_upload(
            loaded.model,
            DeltaLog.from_settings(),
            service.catalogue(),
            uploads.bucket,
            created.key,
            uploads.read(created.key),
            datetime.now(UTC),
        )
        logger.info("catalogue image", extra={**outcome.summary(), "reason": outcome.reason})
        done.append(outcome.summary())
    return done


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

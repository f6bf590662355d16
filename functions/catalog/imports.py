"""SQS handler: S3 notifications of files uploaded under `uploads/catalog/` -> bulk import into the catalogue.

A file with bad lines is rejected whole (its status lists them) and the record succeeds: retrying cannot
fix it. A message that is not an S3 notification, or an S3 or DynamoDB error, fails its record alone
(partial batch response); SQS retries it and, after maxReceiveCount, moves it to the DLQ. Importing the same
file twice writes the same items, so a redelivery is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.catalog.imports import import_items, is_import, status_key
from commerce_ai.catalog.settings import settings
from commerce_ai.catalog.store import Catalog
from commerce_ai.messages import QueueProcessor
from commerce_ai.s3_notifications import parse_s3_notification
from commerce_ai.telemetry import instrumented, logger
from commerce_ai.uploads import Uploads

processor = QueueProcessor()


def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    uploads = Uploads(settings().need("uploads_bucket"))
    catalog = Catalog.from_settings()
    done = []
    for created in parse_s3_notification(record.body):
        if created.bucket != uploads.bucket or not is_import(created.key):
            continue
        status = import_items(catalog, created.key, uploads.read(created.key), datetime.now(UTC))
        uploads.write_json(status_key(created.key), status.as_json())
        logger.info(
            "catalogue import",
            extra={"upload": created.key, "status": status.status, "items": status.items},
        )
        done.append({"upload": created.key, "status": status.status, "items": status.items})
    return done


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

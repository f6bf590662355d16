"""SQS handler: S3 notifications of sales files uploaded under `uploads/forecasts/` -> forecast each as
`commerce-ai forecast` does, results and a status beside the upload (`commerce_ai.forecasting.sales_uploads`).

A container-image function: the forecast fits LightGBM on the file itself (as the CLI does), and LightGBM
with scipy does not belong in a zip inference function. A file that cannot be forecast is `rejected` in its
status and the record succeeds (retrying cannot fix it); a message that is not an S3 notification, or an S3
error, fails its record alone (partial batch response) and reaches ForecastUploadsDLQ after 3 receives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from commerce_ai.forecasting.sales_uploads import forecast_upload, is_sales_upload
from commerce_ai.forecasting.settings import settings
from commerce_ai.messages import QueueProcessor
from commerce_ai.s3_notifications import parse_s3_notification
from commerce_ai.telemetry import instrumented, logger
from commerce_ai.uploads import Uploads

processor = QueueProcessor()


def _now() -> datetime:
    return datetime.now(UTC)


def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    from model_build.forecasting.own_sales import upload_outputs  # the training stack: only when it runs

    uploads = Uploads(settings().need("uploads_bucket"))
    done = []
    for created in parse_s3_notification(record.body):
        if created.bucket != uploads.bucket or not is_sales_upload(created.key):
            continue  # another kind of upload, or one of our own results
        status = forecast_upload(uploads, created.key, upload_outputs, _now)
        summary = {"upload": created.key, "status": status.status, "series": status.series}
        logger.info("sales file forecast", extra=summary)
        done.append(summary)
    return done


@instrumented
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

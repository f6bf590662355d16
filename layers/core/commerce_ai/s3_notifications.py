"""S3 object-created notifications as SQS delivers them: which objects a message announces.

Every bucket the shop watches (model artifacts, the uploads bucket's imports) sends its notifications to a
queue, and the consumer reads them with `parse_s3_notification`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote_plus

from commerce_ai.errors import InvalidInput


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str


def parse_s3_notification(body: str) -> list[ObjectCreated]:
    """The objects an S3 event notification (as delivered to SQS) announces.

    S3's `s3:TestEvent`, sent when a notification is configured, announces nothing. Anything that is
    not an S3 notification is invalid input: the record fails and, after retries, reaches the DLQ.
    """
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InvalidInput(f"message body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("message body is not an S3 event notification object")
    if payload.get("Event") == "s3:TestEvent":
        return []
    records = payload.get("Records")
    if not isinstance(records, list) or not records:
        raise InvalidInput("message is not an S3 event notification: no Records")
    found = []
    for record in records:
        try:
            if not str(record["eventName"]).startswith("ObjectCreated:"):
                continue
            bucket, key = record["s3"]["bucket"]["name"], record["s3"]["object"]["key"]
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"S3 record is missing {exc}") from exc
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise InvalidInput("S3 record's bucket name and object key must be strings")
        found.append(ObjectCreated(bucket=bucket, key=unquote_plus(key)))
    return found

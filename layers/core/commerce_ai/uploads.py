"""The shop's uploads bucket (`UPLOADS_BUCKET`): files a user drops in to start work, each kind under its
own prefix (`uploads/catalog/` imports items, ...), with the results and a status record written beside
the upload. Notifications of new uploads reach each kind's queue (see commerce_ai.s3_notifications)."""

from __future__ import annotations

import json
from typing import Any

from commerce_ai import aws


class Uploads:
    s3 = aws.ClientAttribute("s3")

    def __init__(self, bucket: str, s3: Any = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    def read(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def write_json(self, key: str, value: Any) -> None:
        self.write(key, json.dumps(value, indent=2).encode(), "application/json")

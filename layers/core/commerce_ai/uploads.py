"""The shop's uploads bucket (`UPLOADS_BUCKET`): files a user drops in to start work, each kind under its
own prefix (`uploads/catalog/` imports items, ...), with the results and a status record written beside
the upload. Notifications of new uploads reach each kind's queue (see commerce_ai.s3_notifications)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from commerce_ai import aws


@dataclass(frozen=True)
class Upload:
    """An uploaded object with the user metadata it was put with (`x-amz-meta-*`, names in lower case)."""

    data: bytes
    metadata: dict[str, str] = field(default_factory=dict)


class Uploads:
    s3 = aws.ClientAttribute("s3")

    def __init__(self, bucket: str, s3: Any = None) -> None:
        self.bucket = bucket
        self._s3 = s3

    def read(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body

    def read_upload(self, key: str, max_bytes: int) -> Upload | None:
        """The object and its metadata in one GetObject; None, unread, when it is larger than `max_bytes`."""
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        body = response["Body"]
        if int(response.get("ContentLength", 0)) > max_bytes:
            body.close()
            return None
        metadata = {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()}
        return Upload(data=body.read(), metadata=metadata)

    def delete(self, key: str) -> None:
        """Remove a result (S3 answers the same whether or not it was there)."""
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def write(self, key: str, data: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def write_json(self, key: str, value: Any) -> None:
        self.write(key, json.dumps(value, indent=2).encode(), "application/json")

"""Domain errors. Each carries the HTTP status it maps to, so handlers never pick codes themselves."""

from __future__ import annotations

import re
from typing import Any


class CommerceError(Exception):
    status_code = 500
    code = "InternalServerError"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class InvalidInput(CommerceError):
    status_code = 400
    code = "BadRequestError"


class Unauthorized(CommerceError):
    status_code = 401
    code = "UnauthorizedError"


class Forbidden(CommerceError):
    status_code = 403
    code = "ForbiddenError"


class NotFound(CommerceError):
    status_code = 404
    code = "NotFoundError"


class Conflict(CommerceError):
    status_code = 409
    code = "ConflictError"


class PayloadTooLarge(CommerceError):
    status_code = 413
    code = "PayloadTooLargeError"


class ModelUnavailable(CommerceError):
    """No good version of a model can be served (none active, or every candidate was refused)."""

    status_code = 503
    code = "ModelUnavailableError"


# What a stored or shown reason must never carry: AWS resource names and account ids (an AccessDenied
# message names the role and the table's ARN; a bucket's name holds the account id), or S3 locations.
_ARN = re.compile(r"arn:aws[a-zA-Z-]*:[^\s'\",;)]*")
_S3_URI = re.compile(r"s3://[^\s'\",;)]+")
_AWS_URL = re.compile(r"https?://[^\s'\",;)]*amazonaws\.com[^\s'\",;)]*")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


def safe_reason(exc: BaseException, limit: int = 300, typed: bool = True) -> str:
    """An exception as a reason a client, a status record or a registry entry may show: an AWS error as its
    code and operation only; any other message with ARNs, S3 locations, AWS URLs and account ids removed
    (after the exception's type name, unless not `typed`)."""
    response = getattr(exc, "response", None)
    operation = getattr(exc, "operation_name", None)
    if isinstance(response, dict) and operation:  # botocore's ClientError, without its message
        code = response.get("Error", {}).get("Code", "Unknown")
        return f"{type(exc).__name__}: {code} from {operation}"[:limit]
    text = f"{type(exc).__name__}: {exc}" if typed else str(exc)
    for pattern, replacement in (
        (_ARN, "<arn>"),
        (_S3_URI, "s3://<bucket>"),
        (_AWS_URL, "<aws>"),
        (_ACCOUNT, "<account>"),
    ):
        text = pattern.sub(replacement, text)
    return text[:limit]

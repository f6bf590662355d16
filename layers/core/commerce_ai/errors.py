"""Domain errors. Each carries the HTTP status it maps to, so handlers never pick codes themselves."""

from __future__ import annotations

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

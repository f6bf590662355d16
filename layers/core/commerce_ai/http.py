"""HTTP glue for Chalice apps: JSON errors, body limits, request parsing, admin auth and telemetry.

Every capability's HTTP function builds its app with `json_api(name)`. Routes then raise domain errors
(`commerce_ai.errors`) or pydantic validation errors, and clients always get a JSON body of the shape
Chalice uses for its own errors, `{"Code": ..., "Message": ...}` (plus `Details` where useful). A
client mistake is never a 500; an unexpected bug is a 500 without a stack trace.
"""

from __future__ import annotations

import functools
import hmac
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import Chalice, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from commerce_ai import telemetry
from commerce_ai.config import settings
from commerce_ai.errors import CommerceError, Forbidden, InvalidInput, PayloadTooLarge, Unauthorized
from commerce_ai.telemetry import logger

M = TypeVar("M", bound=BaseModel)
View = Callable[..., Any]


def json_response(status: int, body: Any) -> Response:
    """A JSON answer with a status other than Chalice's default 200."""
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    body: dict[str, Any] = {"Code": code, "Message": message}
    if details is not None:
        body["Details"] = details
    return json_response(status, body)


def _validation_details(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _map_errors(view: View) -> View:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except CommerceError as exc:
            if exc.status_code >= 500:
                logger.error("request failed", extra={"code": exc.code, "reason": str(exc)})
            return error_response(exc.status_code, exc.code, str(exc), exc.details)
        except ValidationError as exc:
            return error_response(400, "BadRequestError", "request is invalid", _validation_details(exc))

    return wrapper


class JsonApi(Chalice):
    """A Chalice app whose routes map domain errors to JSON responses (see module docstring)."""

    def request(self) -> Request:
        """The request being handled (Chalice's `current_request`, never None inside a route)."""
        request = self.current_request
        assert request is not None, "only called while Chalice handles a request"
        return request

    def route(self, path: str, **kwargs: Any) -> Callable[[View], View]:
        register = super().route(path, **kwargs)

        def decorator(view: View) -> View:
            register(_map_errors(view))
            return view

        return decorator


def _body_bytes(event: dict[str, Any]) -> int:
    """The body's size in bytes as the client sent it (API Gateway hands over text or base64)."""
    body = event.get("body") or ""
    if isinstance(body, bytes):  # chalice.test.Client hands bytes over; API Gateway never does
        return len(body)
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8"))


def json_api(name: str) -> JsonApi:
    app = JsonApi(app_name=name)
    app.debug = False

    @app.middleware("http")
    def _telemetry_and_limits(event: Request, get_response: Callable[[Request], Response]) -> Response:
        started = time.perf_counter()
        original = event.to_original_event()
        logger.set_correlation_id(telemetry.correlation_id_of(original))
        if _body_bytes(original) > settings().max_body_bytes:
            response = error_response(
                413, PayloadTooLarge.code, f"request body exceeds {settings().max_body_bytes} bytes"
            )
        else:
            response = get_response(event)
        response.headers.setdefault("x-correlation-id", logger.get_correlation_id() or "")
        failed = response.status_code >= 500
        telemetry.record_invocation(started, ok=not failed, error=RuntimeError("5xx") if failed else None)
        return response

    return app


def parse_body(request: Request, model: type[M]) -> M:
    """The request's JSON body validated as `model`; InvalidInput (400) says what is wrong."""
    raw = request.raw_body
    if not raw:
        raise InvalidInput("request body is required (JSON)")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply") from exc
    return model.model_validate(data)


_ssm_provider: Any = None


def secure_parameter(name: str) -> str:
    """A SecureString from SSM Parameter Store (an API key), cached for a minute per container."""
    global _ssm_provider
    if _ssm_provider is None:
        from aws_lambda_powertools.utilities import parameters

        from commerce_ai import aws

        _ssm_provider = parameters.SSMProvider(boto3_client=aws.client("ssm"))
    return str(_ssm_provider.get(name, decrypt=True, max_age=60))


def admin_key() -> str:
    """The admin API key from SSM Parameter Store (SecureString), cached for a minute per container."""
    return secure_parameter(settings().need("admin_key_parameter"))


def require_admin(request: Request, key_source: Callable[[], str] = admin_key) -> None:
    """401 without an `x-api-key` header, 403 with a wrong one. Call first in every admin route."""
    supplied = request.headers.get("x-api-key") if request.headers else None
    if not supplied:
        raise Unauthorized("admin route: send the admin API key in the x-api-key header")
    if not hmac.compare_digest(supplied.encode(), key_source().encode()):
        raise Forbidden("admin API key is not valid")


def require_any_key(request: Request, key_sources: tuple[Callable[[], str], ...], what: str) -> None:
    """Like `require_admin`, for a route that takes any of several keys (`what` names them in the 401).
    The sources are read in order, and only until one matches."""
    supplied = request.headers.get("x-api-key") if request.headers else None
    if not supplied:
        raise Unauthorized(f"send the {what} in the x-api-key header")
    if not any(hmac.compare_digest(supplied.encode(), source().encode()) for source in key_sources):
        raise Forbidden("API key is not valid")

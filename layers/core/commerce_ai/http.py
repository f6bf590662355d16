"""HTTP glue for Chalice apps: JSON errors, body limits, request parsing, admin auth and telemetry.

Every capability's HTTP function builds its app with `json_api(name)`. Routes then raise domain errors
(`commerce_ai.errors`) or pydantic validation errors, and clients always get a JSON body of the shape
Chalice uses for its own errors, `{"Code": ..., "Message": ...}` (plus `Details` where useful). A
client mistake is never a 500; an unexpected bug is a 500 without a stack trace.

Routes declare their contract (`JsonApi.route(request=, query=, path_params=, response=)`): the same
models validate requests, render responses and make the OpenAPI document (`commerce_ai.openapi`).
"""

from __future__ import annotations

import functools
import hmac
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice import Chalice, Response
from chalice.app import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from commerce_ai import telemetry
from commerce_ai.config import settings
from commerce_ai.errors import CommerceError, Forbidden, InvalidInput, PayloadTooLarge, Unauthorized
from commerce_ai.paging import bind_cursor, unbind_cursor
from commerce_ai.telemetry import logger

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
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


class ErrorBody(BaseModel):
    """Every error answer: Chalice's own shape, plus `Details` for validation errors."""

    model_config = ConfigDict(extra="forbid")

    Code: str = Field(examples=["BadRequestError"])
    Message: str
    Details: Any = Field(default=None, description="Per field problems (`field`, `problem`) for a 400.")


@dataclass(frozen=True)
class RouteSpec:
    """What a route takes and answers, as declared on `JsonApi.route`: the source of the OpenAPI document
    (`commerce_ai.openapi`) and of the validation of every request and response."""

    path: str
    method: str
    view: str
    summary: str
    description: str
    request: type[BaseModel] | None
    request_required: bool
    query: type[BaseModel] | None
    path_params: type[BaseModel] | None
    responses: dict[int, type[BaseModel]]
    admin: bool
    errors: tuple[int, ...]
    produces: tuple[str, ...] = (JSON,)
    # A caller check other than the admin key's (e.g. the ingest key of POST /events), run first.
    caller: Callable[[Request], None] | None = None
    # Media types of a body that is not JSON (an image upload): the view reads `request().raw_body` itself.
    consumes: tuple[str, ...] = ()


def render(model: type[BaseModel], value: Any) -> Any:
    """`value` (a model or its dict) validated as the route's response model and dumped as JSON types.

    A value that does not fit its declared model is a bug in the route, so it fails loudly (a 500) rather
    than sending clients something the API document does not describe.
    """
    try:
        shown = value if isinstance(value, model) else model.model_validate(value)
    except ValidationError as exc:
        # Field names and error types only: response values can be personal data.
        problems = [{"field": ".".join(map(str, e["loc"])), "type": e["type"]} for e in exc.errors()]
        logger.error("response does not match its model", extra={"model": model.__name__, "problems": problems})
        raise ResponseMismatch(f"{model.__name__}: {len(problems)} fields do not match") from None
    return shown.model_dump(mode="json")


class ResponseMismatch(RuntimeError):
    """A route answered something its response model does not describe: a bug, so a 500."""


def _respond(spec: RouteSpec, result: Any) -> Any:
    if spec.produces != (JSON,):  # a page or an asset: the view answers with its own Response
        return result
    if isinstance(result, Response):
        model = spec.responses.get(result.status_code)
        if model is not None and result.status_code < 400:
            result.body = render(model, result.body)
        result.headers.setdefault("Content-Type", "application/json")
        return result
    return json_response(min(spec.responses), render(spec.responses[min(spec.responses)], result))


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


def _cursor_route(spec: RouteSpec, path_values: dict[str, Any]) -> str:
    """What a route's cursors are bound to: its method, path and path parameters (one SKU's history)."""
    values = "&".join(f"{name}={value}" for name, value in sorted(path_values.items()))
    return f"{spec.method} {spec.path}?{values}"


def _bound_cursor(route: str, response: Any) -> Any:
    """The response with its `next_cursor` bound to the route (`commerce_ai.paging.bind_cursor`)."""
    if isinstance(response, Response) and isinstance(response.body, dict) and response.body.get("next_cursor"):
        response.body["next_cursor"] = bind_cursor(route, response.body["next_cursor"])
    return response


def _declared(app: JsonApi, spec: RouteSpec, view: View) -> View:
    """The view with its declared admin check, query and body validation, and response rendering."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request = app.request()
        if not authorized_by_gateway(request):  # a direct invocation: the function's own key check
            if spec.admin:
                require_admin(request)
            if spec.caller is not None:
                spec.caller(request)
        if spec.path_params is not None:
            spec.path_params.model_validate(kwargs)
        route = _cursor_route(spec, kwargs)
        if spec.query is not None:
            query = spec.query.model_validate(dict(request.query_params or {}))
            if getattr(query, "cursor", None):
                query = query.model_copy(update={"cursor": unbind_cursor(route, query.cursor)})  # type: ignore[attr-defined]
            kwargs["query"] = query
        if spec.request is not None:
            has_body = bool(request.raw_body) or spec.request_required
            kwargs["body"] = parse_body(request, spec.request) if has_body else spec.request()
        return _bound_cursor(route, _respond(spec, view(*args, **kwargs)))

    return _map_errors(wrapper)


class JsonApi(Chalice):
    """A Chalice app whose routes declare their bodies as pydantic models (see module docstring).

        `route(path, methods=[...], request=Model, query=Model, path_params=Model, response=Model)` records
        a `RouteSpec` in `route_specs`. The view gets the validated body as `body=` and the query as `query=`
        (path parameters are checked against `path_params` and passed as Chalice passes them), and what it
        returns (a model or a dict, or a `Response` for another status) is rendered through its response
        model. `admin=True` checks the admin key first (`require_admin`), `caller=check` another key check
    (`check(request)` raises Unauthorized or Forbidden); `responses={202: Model}` declares
        other success statuses; `errors=(404, 409)` the error statuses worth naming in the document;
        `produces="text/html"` (or a tuple of media types) a route that answers with its own `Response`;
        `consumes=("image/png", ...)` a route whose body is not JSON (Chalice answers 415 for other types;
        the view reads `request().raw_body`, base64-decoded when API Gateway sent it so).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.route_specs: list[RouteSpec] = []

    def request(self) -> Request:
        """The request being handled (Chalice's `current_request`, never None inside a route)."""
        request = self.current_request
        assert request is not None, "only called while Chalice handles a request"
        return request

    def route(
        self,
        path: str,
        *,
        request: type[BaseModel] | None = None,
        request_required: bool = True,
        query: type[BaseModel] | None = None,
        path_params: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        responses: dict[int, type[BaseModel]] | None = None,
        admin: bool = False,
        caller: Callable[[Request], None] | None = None,
        errors: tuple[int, ...] = (),
        produces: str | tuple[str, ...] = JSON,
        consumes: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> Callable[[View], View]:
        methods = [str(m).upper() for m in kwargs.get("methods", ["GET"])]
        if consumes:
            kwargs["content_types"] = list(consumes)
        statuses = {**({200: response} if response is not None else {}), **(responses or {})}
        media_types = (produces,) if isinstance(produces, str) else produces
        register = super().route(path, **kwargs)

        def decorator(view: View) -> View:
            undeclared = not statuses and media_types == (JSON,)
            if undeclared:  # errors mapped as JSON, nothing documented or validated (tests' probe apps)
                register(_map_errors(view))
                return view
            doc = inspect.getdoc(view) or ""
            summary, _, description = doc.partition("\n\n")
            for method in methods:
                spec = RouteSpec(
                    path=path,
                    method=method,
                    view=view.__name__,
                    summary=" ".join(summary.split()),
                    description=description.strip(),
                    request=request,
                    request_required=request_required,
                    query=query,
                    path_params=path_params,
                    responses=statuses,
                    admin=admin,
                    errors=errors,
                    produces=media_types,
                    caller=caller,
                    consumes=consumes,
                )
                self.route_specs.append(spec)
            register(_declared(self, spec, view))
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
        # A 503 that says when to come back (Retry-After: `/health` during a start-up) is an answer, not a failure.
        failed = response.status_code >= 500 and "Retry-After" not in response.headers
        telemetry.record_invocation(started, ok=not failed, error=RuntimeError("5xx") if failed else None)
        return response

    return app


def parse_body(request: Request, model: type[M]) -> M:
    """The request's JSON body validated strictly as `model`; a 400 says what is wrong."""
    raw = request.raw_body
    if not raw:
        raise InvalidInput("request body is required (JSON)")
    try:
        json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidInput("request body is nested too deeply") from exc
    # Strict JSON types (README, "API conventions"): "12.50" is not a number and "yes" is not a boolean.
    # In JSON mode strict still reads RFC 3339 strings as datetimes and an integer as a float.
    return model.model_validate_json(raw, strict=True)


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


def authorized_by_gateway(request: Request) -> bool:
    """Whether API Gateway's authorizer (or the local gateway, with the same rules) let a key holder through.

    The route's scope is declared once, in template.yaml (CallerAuthorizerFunction's ROUTE_SCOPES), and
    applied before the function runs; a client cannot set `requestContext.authorizer` itself. Without it
    (a direct invocation), routes fall back to their own key check: defence in depth, never a wider door.
    """
    context = (request.context or {}).get("authorizer") or {}
    caller = context.get("caller") if isinstance(context, dict) else None
    return bool(caller) and caller != "anonymous"


def caller_kind(request: Request) -> str:
    """The caller kind the authorizer named (`anonymous` without a key, or outside API Gateway)."""
    context = (request.context or {}).get("authorizer") or {}
    return str(context.get("caller") or "anonymous") if isinstance(context, dict) else "anonymous"


def _require_key(request: Request, key_sources: tuple[Callable[[], str], ...], missing: str, invalid: str) -> None:
    """401 (`missing`) without an `x-api-key` header, 403 (`invalid`) unless it matches one of the keys, which
    are read in order and only until one matches."""
    supplied = request.headers.get("x-api-key") if request.headers else None
    check_key(supplied, key_sources, missing, invalid)


def check_key(supplied: str | None, key_sources: tuple[Callable[[], str], ...], missing: str, invalid: str) -> None:
    """The key check itself, for callers that are not Chalice routes (a WebSocket $connect): Unauthorized
    without a key, Forbidden unless it matches one of the keys (read in order, only until one matches)."""
    if not supplied:
        raise Unauthorized(missing)
    if not any(hmac.compare_digest(supplied.encode(), source().encode()) for source in key_sources):
        raise Forbidden(invalid)


def require_admin(request: Request, key_source: Callable[[], str] = admin_key) -> None:
    """401 without an `x-api-key` header, 403 with a wrong one. Call first in every admin route."""
    _require_key(
        request,
        (key_source,),
        "admin route: send the admin API key in the x-api-key header",
        "admin API key is not valid",
    )


def require_any_key(request: Request, key_sources: tuple[Callable[[], str], ...], what: str) -> None:
    """Like `require_admin`, for a route that takes any of several keys (`what` names them in the 401)."""
    _require_key(request, key_sources, f"send the {what} in the x-api-key header", "API key is not valid")

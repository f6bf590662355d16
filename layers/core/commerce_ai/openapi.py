"""The OpenAPI 3.1 document of the HTTP API, built from the routes' declared pydantic models.

Every route declares its request, query and response models on `JsonApi.route`; this module turns those
`RouteSpec`s into one document. `infra.openapi` collects the specs of every HTTP function in
template.yaml and writes `docs/openapi.json`; nothing here imports a function, so it runs anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from commerce_ai.access import PUBLIC as PUBLIC_SCOPE
from commerce_ai.http import JSON, ErrorBody, RouteSpec

OPENAPI_VERSION = "3.1.0"
REF_TEMPLATE = "#/components/schemas/{model}"
CALLER_SCHEME = "callerKey"
ERROR_TEXT = {
    400: "The request is invalid: a body, query or path parameter, with `Details` per field.",
    401: "No caller key in `x-api-key`, or a key that is not one of the callers' (README, 'Callers and scopes').",
    403: "The caller's key does not hold the scope the route needs.",
    429: "The caller is over its rate limit; `Retry-After` says when to come back.",
    404: "Not found.",
    405: "The path exists but not with this method.",
    409: "A conflicting state or a concurrent change.",
    413: "The body is too large.",
    415: "The body is not of a media type the route takes (`application/json`, or an image for visual search).",
    500: "An unexpected bug (no stack trace is returned).",
    503: "Unavailable for now: no good model version is active, or the event stream cannot take events.",
}
COMMON_ERRORS = (413, 500)


class _CompactNames(GenerateJsonSchema):
    """Schema names without pydantic's module path (`Page[SkuSummary]` -> `Page_SkuSummary_`)."""

    def normalize_name(self, name: str) -> str:
        return re.sub(r"[^a-zA-Z0-9.\-_]", "_", name).replace(".", "_")


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """`schema` with each `#/$defs/<Name>` reference replaced by its definition: a parameter's schema stands
    alone in the document, where the model's `$defs` do not exist (an enum parameter referred to one)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return {**_inlined(definitions[ref.removeprefix("#/$defs/")], definitions), **rest}
        return {k: _inlined(v, definitions) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inlined(v, definitions) for v in schema]
    return schema


def _properties(model: type[BaseModel] | None) -> dict[str, Any]:
    if model is None:
        return {}
    schema = model.model_json_schema(mode="validation")
    return dict(_inlined(schema.get("properties", {}), schema.get("$defs", {})))


def _path_parameters(path: str, model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """Each `{name}` in the path; its schema from the route's `path_params` model when it has one."""
    properties = _properties(model)
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": properties.get(name, {"type": "string", "minLength": 1}),
        }
        for name in re.findall(r"{([^}]+)}", path)
    ]


def _query_parameters(model: type[BaseModel], schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in _inlined(schema.get("properties", {}), schema.get("$defs", {})).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _first_line(model: type[BaseModel]) -> str:
    return (model.__doc__ or "OK").strip().splitlines()[0]


def _is_text(media_type: str) -> bool:
    """A page, a script or an SVG: text; an image, audio or a download: bytes."""
    return media_type.startswith("text/") or media_type.endswith(("+xml", "/json", "/javascript"))


def _binary(media_type: str) -> dict[str, Any]:
    """A file body: the bytes themselves, or a multipart form with the file in its `image` field."""
    if media_type == "multipart/form-data":
        image = {"type": "string", "format": "binary"}
        return {"schema": {"type": "object", "properties": {"image": image}, "required": ["image"]}}
    return {"schema": {"type": "string", "format": "binary"}}


def _json(ref: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def build_document(
    specs: Iterable[RouteSpec],
    title: str,
    version: str,
    description: str = "",
    scopes: dict[tuple[str, str], str] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `specs`: paths, operations and every model under components."""
    specs = sorted(specs, key=lambda s: (s.path, s.method))
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for spec in specs:
        if spec.request is not None:
            wanted.append((spec.request, "validation"))
        wanted.extend((model, "serialization") for model in spec.responses.values())
    refs, definitions = models_json_schema(
        list(dict.fromkeys(wanted)), ref_template=REF_TEMPLATE, schema_generator=_CompactNames
    )
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs:
        operation: dict[str, Any] = {"operationId": spec.view, "summary": spec.summary or spec.view}
        if spec.description:
            operation["description"] = spec.description
        parameters = _path_parameters(spec.path, spec.path_params)
        if spec.query is not None:
            parameters += _query_parameters(spec.query, spec.query.model_json_schema(mode="validation"))
        if parameters:
            operation["parameters"] = parameters
        if spec.request is not None:
            operation["requestBody"] = {
                "required": spec.request_required,
                "content": {"application/json": {"schema": refs[(spec.request, "validation")]}},
            }
        elif spec.consumes:
            operation["requestBody"] = {"required": True, "content": {m: _binary(m) for m in spec.consumes}}
        responses: dict[str, Any] = {
            str(status): _json(refs[(model, "serialization")], _first_line(model))
            for status, model in sorted(spec.responses.items())
        }
        if spec.produces != (JSON,):
            text = {"schema": {"type": "string"}}
            responses["200"] = {
                "description": "OK",
                "content": {media: text if _is_text(media) else _binary(media) for media in spec.produces},
            }
        errors = set(COMMON_ERRORS) | set(spec.errors)
        if spec.request is not None or spec.query is not None or "{" in spec.path:
            errors.add(400)
        if spec.request is not None or spec.consumes:
            errors |= {400, 415}
        # The scope the template declares for the route (CallerAuthorizerFunction's ROUTE_SCOPES); without
        # the template's rules (a probe app), the route's own key check.
        scope = (scopes or {}).get((spec.method, spec.path))
        if scope is None and (spec.admin or spec.caller is not None):
            scope = "admin" if spec.admin else "caller"
        if scope is not None and scope != PUBLIC_SCOPE:
            errors |= {401, 403}
            operation["security"] = [{CALLER_SCHEME: [scope]}]
        if scopes is not None:
            errors |= {401, 429}  # every route: an unknown key, and the caller's rate limit
        for status in sorted(errors):
            responses[str(status)] = _json(refs[(ErrorBody, "serialization")], ERROR_TEXT.get(status, "Error."))
        operation["responses"] = responses
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                CALLER_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "x-api-key",
                    "description": "A caller kind's key (checkout, events, labels, operator, admin); each route's "
                    "security names the scope it needs (README, 'Callers and scopes').",
                }
            },
        },
    }

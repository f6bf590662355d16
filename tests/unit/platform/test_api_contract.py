"""The API contract: docs/openapi.json is current, covers every route in template.yaml, and the whole API
follows the project's conventions (README, "API conventions").

The document is generated from the models the routes declare (`JsonApi.route(request=, query=,
response=)`), so a route added with its models is covered here without editing this file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from chalice.test import Client
from pydantic import BaseModel, ConfigDict

from commerce_ai.api_fields import Money, Score, Timestamp
from commerce_ai.http import json_api
from commerce_ai.openapi import build_document
from infra import openapi
from infra.template import Stack

STACK = Stack()
DOCUMENT = openapi.document(STACK)
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
# Lists in a response that are not paged and whose schema has no maxItems, each bounded by something other
# than traffic. A new list should rather declare its bound (`Field(max_length=...)`) in its own model.
BOUNDED_LISTS = {
    "HealthReport.functions": "one per function in template.yaml",
    "StartingReport.waiting_for": "the models a start-up still builds, and seeding",
    "ModelDetail.versions": "a model's versions; the registry keeps them all (paging them is still to do)",
    "SkuView.recent_prices": "the last 8 prices",
    "PriceView.recent_prices": "the last 8 prices",
    "Decision.rules": "the guard rails that fired",
    "GuardVerdict.rules": "the guard rails that fired",
    "QuoteResponse.quotes": "one per candidate price asked for (at most 50)",
    "ScoreResponse.reasons": "the rules that fired and the top three features",
    "TransactionView.reasons": "the rules that fired and the top three features",
    "RepriceReport.unknown_skus": "at most the 1000 SKUs asked for",
    "RepriceReport.decisions": "at most 1000",
    "ModelVersion.feature_names": "the model's inputs",
    "CompetitorPrices.competitors": "at most the 50 most recently seen competitors",
    "RejectedEvent.errors": "the fields of one event that are wrong",
    "ActiveVersion.worse_than_previous": "the holdout metrics a forced activation is worse at: at most the model's",
    "ExperimentView.arms": "an experiment's arms, 2-10",
    "ExperimentDetail.arms": "an experiment's arms, 2-10",
    "ExperimentResults.arms": "one per arm of the experiment, 2-10",
    "RateView.ci95": "an interval: [low, high]",
    "DifferenceView.ci95": "an interval: [low, high]",
}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def schema(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    return found


def test_the_committed_document_is_current() -> None:
    committed = openapi.DOCUMENT.read_text(encoding="utf-8")
    assert committed == openapi.render(DOCUMENT), "docs/openapi.json is stale: run `make openapi`"


def test_the_docs_function_serves_the_committed_document() -> None:
    served = STACK.function("ApiDocsFunction").code_uri / "openapi.json"
    assert served.resolve() == openapi.DOCUMENT.resolve()


def test_every_reference_in_the_document_resolves() -> None:
    """A parameter's schema is copied out of its model, whose `$defs` stay behind: an enum path parameter
    referred to `#/$defs/Stage`, which schemathesis could not resolve."""
    text = json.dumps(DOCUMENT)
    assert "#/$defs/" not in text
    schemas = DOCUMENT["components"]["schemas"]
    for ref in set(_refs(DOCUMENT)):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_api_event_in_the_template_is_in_the_document() -> None:
    declared = {
        (str(e.properties["Method"]).upper(), str(e.properties["Path"]))
        for fn in STACK.functions()
        for e in fn.events
        if e.type == "Api"
    }
    documented = {(method, path) for method, path, _ in operations(DOCUMENT)}
    assert declared - documented == set()
    assert documented - declared == set()


def test_every_route_of_every_app_declares_its_models() -> None:
    for logical_id, app in openapi.http_apps(STACK).items():
        routes = {(m.upper(), p) for p, methods in app.routes.items() for m in methods}
        declared = {(s.method, s.path) for s in app.route_specs}
        assert routes == declared, f"{logical_id}: routes without models: {sorted(routes - declared)}"


def test_every_operation_documents_a_json_success_and_its_errors() -> None:
    for method, path, op in operations(DOCUMENT):
        successes = [s for s in op["responses"] if s.startswith("2")]
        assert successes, f"{method} {path} has no success response"
        assert "500" in op["responses"]
        if method in ("POST", "PUT") and "requestBody" in op:
            assert "400" in op["responses"] and "415" in op["responses"]
        if op.get("security"):
            assert {"401", "403"} <= set(op["responses"]), f"{method} {path}"


def test_admin_routes_are_exactly_the_ones_that_change_state_or_show_private_data() -> None:
    admin = {(m, p) for m, p, op in operations(DOCUMENT) if op.get("security")}
    changes = {(m, p) for m, p, _ in operations(DOCUMENT) if m in ("PUT", "DELETE")}
    assert changes <= admin
    assert ("GET", "/risk/transactions/{transaction_id}") in admin


def _response_schemas(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for _, _, op in operations(doc):
        for response in op["responses"].values():
            ref = response.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in ref:
                name = ref["$ref"].rsplit("/", 1)[-1]
                found[name] = doc["components"]["schemas"][name]
    pending = list(found.values())
    while pending:  # follow references into nested models
        text = json.dumps(pending.pop())
        for name in doc["components"]["schemas"]:
            if f'"#/components/schemas/{name}"' in text and name not in found:
                found[name] = doc["components"]["schemas"][name]
                pending.append(found[name])
    return found


def test_every_response_timestamp_is_rfc3339_utc_with_z() -> None:
    for name, model in _response_schemas(DOCUMENT).items():
        text = json.dumps(model)
        assert '"format": "date-time"' not in text or TIMESTAMP.replace("\\", "\\\\") in text, name
        for field, prop in model.get("properties", {}).items():
            variants = prop.get("anyOf", [prop])
            for variant in variants:
                if variant.get("format") == "date-time":
                    assert variant.get("pattern") == TIMESTAMP, f"{name}.{field}"


def test_lists_that_grow_are_pages_with_limit_and_cursor() -> None:
    schemas = _response_schemas(DOCUMENT)
    for name, model in schemas.items():
        for field, prop in model.get("properties", {}).items():
            arrays = [v for v in prop.get("anyOf", [prop]) if v.get("type") == "array"]
            # A list whose model gives it a maxItems is bounded where it is declared (a capability's own
            # contract.py); only lists bounded by something the schema cannot say are named here.
            if arrays and field != "items" and not all("maxItems" in v for v in arrays):
                assert f"{name}.{field}" in BOUNDED_LISTS, f"{name}.{field} is a list: page it or say why not"
    for method, path, op in operations(DOCUMENT):
        ok = op["responses"].get("200", {})  # POST /events answers 202 only
        ref = ok.get("content", {}).get("application/json", {}).get("schema", {})
        if "$ref" not in ref or "items" not in schema(DOCUMENT, ref).get("properties", {}):
            continue
        model = schema(DOCUMENT, ref)
        assert {"items", "next_cursor"} <= set(model["properties"]), f"{method} {path}"
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "cursor"} <= names, f"{method} {path} pages without limit and cursor"


def test_request_bodies_refuse_what_json_does_not_say() -> None:
    # Strict JSON types: every request body is read strictly, so a number sent as a string is a 400.
    for method, path, op in operations(DOCUMENT):
        if "requestBody" in op:
            media = list(op["requestBody"]["content"])
            # A file upload (visual search's images) is read by its own bytes, not as JSON.
            binary = all(m.startswith(("image/", "multipart/form-data", "application/octet-stream")) for m in media)
            assert media == ["application/json"] or binary, f"{method} {path}"


# --------------------------------------------------------------- the conventions, on a probe app


class Probe(BaseModel):
    """A probe response."""

    model_config = ConfigDict(extra="forbid")

    at: Timestamp
    price: Money
    score: Score


class ProbeRequest(BaseModel):
    amount: float
    flag: bool


def probe_app() -> Any:
    app = json_api("probe")

    @app.route("/probe/{shape}", methods=["GET"], response=Probe)
    def probe(shape: str) -> dict[str, Any]:
        moments: dict[str, Any] = {
            "aware": datetime(2026, 12, 5, 11, 0, tzinfo=timezone(timedelta(hours=1))),
            "naive": datetime(2026, 12, 5, 10, 0),
            "text": "2026-12-05T10:00:00+00:00",
            "micro": "2026-12-05T10:00:00.123456Z",
        }
        return {"at": moments[shape], "price": 2.9700000000000002, "score": 4.029273986816406e-05}

    @app.route("/wrong", methods=["GET"], response=Probe)
    def wrong() -> dict[str, Any]:
        return {"at": datetime.now(UTC), "price": 1.0, "score": 0.5, "extra": "not in the model"}

    @app.route("/post", methods=["POST"], request=ProbeRequest, response=Probe)
    def post(body: ProbeRequest) -> Probe:
        return Probe(at=datetime(2026, 12, 5, tzinfo=UTC), price=body.amount, score=1.0)

    return app


@pytest.mark.parametrize("shape", ["aware", "naive", "text", "micro"])
def test_every_timestamp_shape_is_answered_as_one(shape: str) -> None:
    with Client(probe_app()) as client:
        response = client.http.get(f"/probe/{shape}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    expected = "2026-12-05T10:00:00.123Z" if shape == "micro" else "2026-12-05T10:00:00.000Z"
    assert body == {"at": expected, "price": 2.97, "score": 4e-05}


def test_a_response_that_does_not_fit_its_model_is_a_bug_not_a_silent_extra_field() -> None:
    with Client(probe_app()) as client:
        response = client.http.get("/wrong")
    assert response.status_code == 500


@pytest.mark.parametrize(
    "body", ['{"amount": "12.50", "flag": true}', '{"amount": 12.5, "flag": "yes"}', '{"amount": 12.5, "flag": 1}']
)
def test_a_number_or_boolean_sent_as_something_else_is_a_400(body: str) -> None:
    with Client(probe_app()) as client:
        response = client.http.post("/post", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 400
    assert json.loads(response.body)["Code"] == "BadRequestError"


def test_an_integer_is_a_number() -> None:
    with Client(probe_app()) as client:
        response = client.http.post(
            "/post", headers={"Content-Type": "application/json"}, body='{"amount": 12, "flag": false}'
        )
    assert response.status_code == 200
    assert json.loads(response.body)["price"] == 12.0


def test_the_probe_document_describes_its_routes() -> None:
    doc = build_document(probe_app().route_specs, "probe", "1")
    assert set(doc["paths"]) == {"/probe/{shape}", "/wrong", "/post"}
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["schemas"]["Probe"]["properties"]["at"]["pattern"] == TIMESTAMP

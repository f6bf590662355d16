"""Identifiers that a URL path segment cannot carry (`/`, `?`, `#`, `%`, whitespace, control characters, more
than 128 characters) are refused where they would be stored, with the field named, so nothing is stored
that a later `GET /.../{id}` cannot address (`commerce_ai.api_fields.identifier_pattern`, issue 18 part 4).

Checked three ways: every id pattern of the API document against the shared alphabet; every route family's
write, through the request model its route declares, with a sample body whose id is spoiled; and the doors
that are not HTTP bodies (queued records, uploaded files, image keys)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from commerce_ai.api_fields import IDENTIFIER, identifier_pattern
from commerce_ai.catalog.items import CatalogItem
from commerce_ai.forecasting.sales_csv import SalesFileError, read_sales
from commerce_ai.http import RouteSpec, _validation_details
from commerce_ai.propensity.batch import BatchRequest
from commerce_ai.risk.schemas import AccountEvent, Transaction
from commerce_ai.stream.ingest import validate
from commerce_ai.visual.indexing import item_id_of
from infra.openapi import route_specs
from infra.template import ROOT
from tests.support.events import sample_body

# What a path segment cannot carry as it is, and what an id must not be.
UNADDRESSABLE = [
    "a/b",
    "a?b",
    "a#b",
    "a%2Fb",
    "a b",
    "a\tb",
    "a\nb",
    "a\x00b",
    "a\x7fb",
    "a\uff0fb",
    "a" * 129,
    "",
    " a",
]
# ASCII and Latin-1, and look-alikes of the separators: fullwidth solidus, division slash, zero-width space
CHARACTERS = [chr(c) for c in range(0x100)] + ["\uff0f", "\u2215", "\u200b", "\u3000"]
ID_NAMES = re.compile(r"(^|_)(id|ids|sku|skus|name|job|version|arm|control|variant|target|faq_id)$")
# Path parameters checked in their views instead of a pattern: an IP may be spelt many ways and is
# normalised (`commerce_ai.risk.schemas.normalise_ip`); a kind or a stage is one of a few words; a docs
# asset is only read. Pricing's reprice request selects SKUs, it stores none.
NOT_PATTERNED = {("PUT", "/risk/blocklist/{kind}/{identifier}"), ("GET", "/docs/{asset}"), ("POST", "/pricing/reprice")}


@cache
def document() -> dict[str, Any]:
    return json.loads((ROOT / "docs/openapi.json").read_text())


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document()["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def id_strings(schema: dict[str, Any], name: str = "", depth: int = 0) -> Iterator[tuple[str, dict[str, Any]]]:
    """(field name, string schema) of every id-named string in a request body's schema."""
    schema = resolve(schema)
    if depth > 8:
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from id_strings(part, name, depth + 1)
    for field, part in schema.get("properties", {}).items():
        yield from id_strings(part, field, depth + 1)
    if "items" in schema:
        yield from id_strings(schema["items"], name, depth + 1)
    if schema.get("type") == "string" and ID_NAMES.search(name) and "enum" not in schema:
        yield name, schema


def document_ids() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in NOT_PATTERNED:
                continue
            for parameter in operation.get("parameters", []):
                schema = resolve(parameter.get("schema", {}))
                if parameter.get("in") == "path" and "enum" not in schema:
                    found.append((f"{method.upper()} {path}", parameter["name"], schema))
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "schema" in content:
                found += [(f"{method.upper()} {path}", n, s) for n, s in id_strings(content["schema"])]
    return found


def test_the_shared_alphabet_is_what_a_path_segment_carries_as_it_is() -> None:
    assert IDENTIFIER == r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,127}$"
    assert not any(re.fullmatch(IDENTIFIER, bad) for bad in UNADDRESSABLE)
    with pytest.raises(ValueError):
        identifier_pattern("/")  # a kind of id may narrow the alphabet, never widen it
    with pytest.raises(ValueError):
        identifier_pattern(max_length=129)


@pytest.mark.parametrize(("route", "name", "schema"), document_ids(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_id_the_api_takes_holds_to_the_shared_alphabet(route: str, name: str, schema: dict[str, Any]) -> None:
    pattern = schema.get("pattern")
    assert pattern, f"{route}: {name} has no pattern, so any string would be stored"
    assert not [bad for bad in UNADDRESSABLE if re.fullmatch(pattern, bad)], f"{route}: {name}"
    # a narrowing of the shared alphabet: every character it takes, the shared one takes too
    taken = [c for c in CHARACTERS if re.fullmatch(pattern, "a" + c) or re.fullmatch(pattern, c)]
    assert all(re.fullmatch(IDENTIFIER, "a" + c) for c in taken), f"{route}: {name} takes more than IDENTIFIER"


# ------------------------------------------------------------------------------ a write per route family


@cache
def specs() -> dict[tuple[str, str], RouteSpec]:
    return {(spec.method, spec.path): spec for spec in route_specs()}


def spoil(body: Any, path: tuple[str | int, ...], value: str) -> Any:
    copy = json.loads(json.dumps(body))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def refused_fields(model: type[BaseModel], body: Any) -> list[str]:
    """The fields the route's 400 names (`commerce_ai.http`'s details), or [] if the body is accepted."""
    try:
        model.model_validate_json(json.dumps(body), strict=True)
    except ValidationError as exc:
        return [d["field"] for d in _validation_details(exc)]
    return []


WRITES = [
    ("PUT", "/catalog/items/{item_id}", "catalog/CatalogAdminFunction-PutItem.json", None),
    ("PUT", "/experiments/{name}", "experiments/ExperimentsApiFunction-PutExperiment.json", ("arms", 0, "name")),
    (
        "PUT",
        "/experiments/{name}",
        "experiments/ExperimentsApiFunction-PutExperiment.json",
        ("arms", 0, "model", "version"),
    ),
    ("POST", "/models/{name}/activate", "registry/RegistryAdminFunction-ActivateModel.json", ("version",)),
    ("POST", "/recommendations/rank", "recommendations/RecommendationsApiFunction-RankItems.json", ("user_id",)),
    ("POST", "/recommendations/rank", "recommendations/RecommendationsApiFunction-RankItems.json", ("item_ids", 0)),
    ("POST", "/risk/score", "risk/RiskApiFunction-Score.json", ("transaction_id",)),
    ("POST", "/risk/score", "risk/RiskApiFunction-Score.json", ("user_id",)),
    ("POST", "/risk/score", "risk/RiskApiFunction-Score.json", ("device_id",)),
    ("POST", "/risk/score", "risk/RiskApiFunction-Score.json", ("merchant_id",)),
    ("POST", "/risk/events", "risk/RiskApiFunction-AccountEvent.json", ("user_id",)),
    ("POST", "/risk/labels", "risk/RiskApiFunction-Label.json", ("transaction_id",)),
    ("POST", "/support/messages", "support/SupportApiFunction-PostMessage.json", ("user_id",)),
    ("POST", "/support/messages", "support/SupportApiFunction-PostMessage.json", ("conversation_id",)),
    (
        "PUT",
        "/support/graph/items/{item_id}",
        "support/SupportAdminFunction-PutGraphItem.json",
        ("relations", 0, "target"),
    ),
    ("POST", "/pricing/quote", "pricing/PricingApiFunction-Quote.json", ("sku",)),
]


@pytest.mark.parametrize(("method", "route", "sample", "field"), WRITES, ids=lambda v: str(v))
def test_each_route_familys_write_refuses_an_unaddressable_id_naming_the_field(
    method: str, route: str, sample: str, field: tuple[str | int, ...] | None
) -> None:
    spec = specs()[(method, route)]
    body = sample_body(sample)
    if field is None:  # the id is the path's: its path-parameter model
        assert spec.path_params is not None
        (name,) = spec.path_params.model_fields
        for bad in UNADDRESSABLE:
            assert refused_fields(spec.path_params, {name: bad}) == [name], repr(bad)
        return
    assert spec.request is not None and refused_fields(spec.request, body) == []
    named = ".".join(str(step) for step in field)
    for bad in UNADDRESSABLE:
        assert named in refused_fields(spec.request, spoil(body, field, bad)), repr(bad)


def test_the_write_routes_with_an_id_in_their_body_are_all_covered() -> None:
    covered = {(m, r) for m, r, _, f in WRITES if f is not None}
    with_ids = {
        tuple(route.split(" ", 1))
        for route, name, _ in document_ids()
        if route.split(" ", 1)[0] in ("POST", "PUT") and "{" + name + "}" not in route
    }
    uncovered = {
        r
        for r in with_ids
        if r not in covered and r[1] not in ("/events", "/forecasts/what-if", "/inventory/allocations")
    }
    assert not uncovered, f"add a sample write to WRITES for {sorted(uncovered)}"


# ------------------------------------------------------------------------------------ the other doors


def test_behaviour_events_refuse_an_unaddressable_id_naming_the_field() -> None:
    event = sample_body("stream/BehaviourEventsApiFunction-PostEvents.json")["events"][0]
    for field in ("event_id", "user_id", "session_id", "item_id"):
        for bad in UNADDRESSABLE:
            result = validate([spoil(event, (field,), bad)])
            assert not result.accepted and field in {e["field"] for e in result.rejected[0].errors}, (field, bad)


@pytest.mark.parametrize(
    ("model", "sample", "field"),
    [
        (Transaction, "risk/RiskBulkScoringFunction-TransactionQueued.json", ("user_id",)),
        (AccountEvent, "risk/RiskAccountEventsFunction-AccountEventQueued.json", ("device_id",)),
        (BatchRequest, "propensity/PropensityBatchScoringFunction-BatchRequested.json", ("user_ids", 0)),
        (BatchRequest, "propensity/PropensityBatchScoringFunction-BatchRequested.json", ("job_id",)),
    ],
)
def test_queued_records_refuse_an_unaddressable_id_naming_the_field(
    model: type[BaseModel], sample: str, field: tuple[str | int, ...]
) -> None:
    record = sample_body(sample)
    assert refused_fields(model, record) == []
    for bad in UNADDRESSABLE:
        assert ".".join(map(str, field)) in refused_fields(model, spoil(record, field, bad)), repr(bad)


def test_an_imported_catalogue_item_refuses_an_unaddressable_id() -> None:
    for bad in UNADDRESSABLE:
        with pytest.raises(ValidationError, match="item_id"):
            CatalogItem.model_validate({"item_id": bad, "title": "t", "price": 1.0})


def test_an_uploaded_sales_file_refuses_an_unaddressable_sku_naming_its_line() -> None:
    for bad in ["a/b", "a?b", "a#b", "a%2Fb", "a b", "a" * 129]:
        with pytest.raises(SalesFileError, match=r"line 2.*sku"):
            read_sales(f"date,sku,units\n2026-01-01,{bad},3\n", min_history=1)


def test_a_product_image_key_with_an_unaddressable_item_id_is_not_indexed() -> None:
    assert item_id_of("catalog/images/oj-2-1.jpg") == "oj-2-1"
    for bad in ["a b", "a%2Fb", "a?b", "a#b", "a" * 129]:
        assert item_id_of(f"catalog/images/{bad}.jpg") is None, bad

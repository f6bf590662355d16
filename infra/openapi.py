"""Writes and checks `docs/openapi.json`: the OpenAPI 3.1 document of every HTTP function in template.yaml.

Each function with `Api` events is a `JsonApi` app whose routes declare their models; this imports each
app the way the runner does, gathers its `route_specs` and builds one document
(`commerce_ai.openapi.build_document`). A route added to any app with its models is in the document
after `commerce-ai openapi`; the unit test fails while the committed copy is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from commerce_ai.http import JsonApi, RouteSpec
from commerce_ai.openapi import build_document
from infra.runner.invoker import load_handler
from infra.template import ROOT, Stack

DOCUMENT = ROOT / "docs" / "openapi.json"
TITLE = "commerce-ai HTTP API"
VERSION = "1"
DESCRIPTION = (
    "AI for online retail. Conventions (README, 'API conventions'): timestamps in RFC 3339 UTC with `Z`; "
    'lists as `{"items": [...], "next_cursor"}` with `limit` and `cursor`; strict JSON types; errors as '
    '`{"Code", "Message", "Details"?}`. Routes that are not public need a caller key in `x-api-key` that holds '
    "the scope the route's security names (README, 'Callers and scopes')."
)


def http_apps(stack: Stack | None = None) -> dict[str, JsonApi]:
    """Every function with Api events, by logical id, as its imported app."""
    apps = {}
    for fn in (stack or Stack()).functions():
        if any(e.type == "Api" for e in fn.events):
            handler = load_handler(fn.code_uri, fn.module, fn.attribute)
            if not isinstance(handler, JsonApi):
                raise TypeError(f"{fn.logical_id} has Api events but its handler is not a JsonApi app")
            apps[fn.logical_id] = handler
    return apps


def route_specs(stack: Stack | None = None) -> list[RouteSpec]:
    return [spec for app in http_apps(stack).values() for spec in app.route_specs]


def document(stack: Stack | None = None) -> dict[str, Any]:
    from commerce_ai.access import AccessRules
    from infra.runner.http_gateway import AUTHORIZER

    stack = stack or Stack()
    rules = AccessRules.parse(stack.function(AUTHORIZER).environment)
    return build_document(route_specs(stack), TITLE, VERSION, DESCRIPTION, scopes=rules.routes)


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(document()), encoding="utf-8")
    return path


def is_current(path: Path = DOCUMENT) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == render(document())


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/openapi.json is stale")
    args = parser.parse_args(argv)
    if args.check:
        current = is_current()
        print("docs/openapi.json is " + ("current" if current else "stale: run `make openapi`"))
        return 0 if current else 1
    print(f"wrote {write().relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

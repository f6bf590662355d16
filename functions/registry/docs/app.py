"""API documentation (API Gateway -> Chalice): the OpenAPI document and a Swagger UI to browse it.

`openapi.json` beside this module is the committed `docs/openapi.json` (a symlink here, a copy in the
deployed package); the Swagger UI 5 assets (OpenAPI 3.1) come from the `openapi-ui-bundles` package, served from this
function, so the page works without internet access. Kept apart from the other APIs so their packages
stay small.
"""

from __future__ import annotations

import json
import mimetypes
from functools import cache
from pathlib import Path
from typing import Any

from chalice import Response
from pydantic import RootModel

from commerce_ai.errors import NotFound
from commerce_ai.http import json_api

app = json_api("registry-api-docs")
DOCUMENT = Path(__file__).with_name("openapi.json")
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js")
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>commerce-ai API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script src="docs/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
    });
  </script>
</body>
</html>
"""


class OpenApiDocument(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document of the whole HTTP API."""


@cache
def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@cache
def _asset(name: str) -> tuple[bytes, str]:
    from openapi_ui_bundles import swagger_ui  # imported on first use: /openapi.json does not need it

    path = swagger_ui.static_path / name
    return path.read_bytes(), mimetypes.guess_type(name)[0] or "text/plain"


@app.route("/openapi.json", methods=["GET"], response=OpenApiDocument)
def get_openapi() -> OpenApiDocument:
    """The OpenAPI 3.1 document of the whole HTTP API."""
    return OpenApiDocument(_document())


@app.route("/docs", methods=["GET"], produces="text/html")
def get_docs() -> Response:
    """Swagger UI: browse and try the API."""
    # Relative URLs: the page works under API Gateway's stage prefix (/Prod/docs) as well as locally.
    return Response(body=PAGE, status_code=200, headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/docs/{asset}", methods=["GET"], produces=("text/javascript", "text/css"), errors=(404,))
def get_docs_asset(asset: str) -> Response:
    """One of the Swagger UI page's scripts or its style sheet."""
    if asset not in ASSETS:
        raise NotFound(f"no such documentation asset: {asset[:100]!r}")
    body, media_type = _asset(asset)
    return Response(body=body.decode("utf-8"), status_code=200, headers={"Content-Type": media_type})

"""Which chart a `GET /forecasts/{sku}/plot` answers, from the request's Accept header.

PNG is the default (the issue's image, like the design's `model.plot(forecast)`); SVG, with its title,
dates and units as text, when the client prefers it. Without an Accept header the answer is SVG: a client
that names nothing accepts anything, and a PNG passes neither Chalice nor API Gateway as binary unless the
request's Accept names a binary type (API Gateway decides by the first type the client lists)."""

from __future__ import annotations

PNG, SVG = "image/png", "image/svg+xml"
OFFERED = (PNG, SVG)  # in order of preference when the client weighs them alike


def _quality(accept: str, media_type: str) -> float:
    """The q the Accept header gives `media_type`: its most specific matching range's (RFC 9110 12.5.1)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for entry in accept.split(","):
        name, *params = (part.strip() for part in entry.split(";"))
        name = name.lower()
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name)
        if specificity is None or specificity < best[0]:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        best = (specificity, q) if specificity > best[0] else (specificity, max(best[1], q))
    return best[1]


def chart_media_type(accept: str | None) -> str | None:
    """PNG or SVG for this Accept header, or None when it accepts neither (a 406)."""
    if accept is None or not accept.strip():
        return SVG
    scored = [(_quality(accept, m), -i, m) for i, m in enumerate(OFFERED)]
    q, _, chosen = max(scored)
    return chosen if q > 0 else None

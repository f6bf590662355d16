"""The plot route's content negotiation: PNG by default, SVG when preferred or when nothing is named,
nothing (a 406) when neither is acceptable."""

from __future__ import annotations

import pytest

from commerce_ai.forecasting.plot_media import PNG, SVG, chart_media_type


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("image/png", PNG),
        ("*/*", PNG),  # curl, requests
        ("image/*", PNG),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", PNG),  # a browser
        ("image/svg+xml", SVG),
        ("image/png;q=0.5, image/svg+xml", SVG),
        ("image/*;q=0.9, image/svg+xml;q=0.1, image/png;q=0", SVG),  # the most specific range decides
        (None, SVG),
        ("", SVG),
        ("text/csv", None),
        ("image/png;q=0", None),
        ("image/png;q=nonsense", None),
    ],
)
def test_the_chart_type_follows_the_accept_header(accept: str | None, chosen: str | None) -> None:
    assert chart_media_type(accept) == chosen

"""Which capabilities there are, and which one a function belongs to: from the folders and template.yaml,
never from a list (see tests/unit/platform/test_capabilities.py)."""

from __future__ import annotations

from infra.template import ROOT, Function


def capabilities() -> set[str]:
    """The capabilities that serve something: each folder under functions/ with a domain package."""
    core = ROOT / "layers" / "core" / "commerce_ai"
    return {d.name for d in (ROOT / "functions").iterdir() if d.is_dir() and (core / d.name).is_dir()}


def capability_of(fn: Function) -> str:
    """The capability a function belongs to: the longest capability name its service name starts with."""
    service = fn.environment.get("POWERTOOLS_SERVICE_NAME", "")
    found = [c for c in capabilities() if service == c or service.startswith(f"{c}-")]
    assert found, f"{fn.logical_id}: POWERTOOLS_SERVICE_NAME {service!r} does not start with a capability's name"
    return max(found, key=len)

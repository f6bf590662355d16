"""Pricing's integration fixtures: the synthetic `pricing-demand` model, active in the test stack's registry."""

from __future__ import annotations

import pytest

from infra.template import Stack
from tests.support.pricing import activate_pricing_demand


@pytest.fixture(scope="module")
def demand_model(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The active `pricing-demand` version (one build per test module)."""
    return activate_pricing_demand(stack, tmp_path_factory.mktemp("pricing-demand"))

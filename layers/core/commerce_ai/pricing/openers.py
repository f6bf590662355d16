"""Pricing's artifact opener, found by `commerce_ai.artifacts.frameworks.discover_openers`: a demand model
validates only if pricing could serve it."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.pricing.demand import MODEL_NAME, open_demand_model

register_model_opener(MODEL_NAME, open_demand_model)

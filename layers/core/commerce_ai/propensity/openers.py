"""Propensity's artifact openers (one model per horizon), found by
`commerce_ai.artifacts.frameworks.discover_openers`: a version validates only with its policy file."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.propensity.model import HORIZONS, model_name, open_propensity_model

for _horizon in HORIZONS:
    register_model_opener(model_name(_horizon), open_propensity_model)

"""Risk's artifact openers, found by `commerce_ai.artifacts.frameworks.discover_openers`, so a risk model
validates only with its policy file and features as scoring needs them, and a graph only if it parses."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.risk.model import GRAPH_NAME, MODEL_NAME, open_graph, open_risk_model

register_model_opener(MODEL_NAME, open_risk_model)
register_model_opener(GRAPH_NAME, open_graph)

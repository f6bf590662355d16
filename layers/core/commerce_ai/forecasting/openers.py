"""Forecasting's artifact openers, found by `commerce_ai.artifacts.frameworks.discover_openers`: a demand
forecaster and an allocation policy validate only if forecasting could serve them."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.forecasting import allocation
from commerce_ai.forecasting.model import MODEL_NAME, open_forecast_model

register_model_opener(MODEL_NAME, open_forecast_model)
register_model_opener(allocation.ALLOCATION_MODEL, allocation.open_allocation_policy)

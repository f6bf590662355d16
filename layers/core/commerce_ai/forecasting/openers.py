"""Forecasting's artifact opener, found by `commerce_ai.artifacts.frameworks.discover_openers`: a demand
forecaster validates only if forecasting could serve it."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.forecasting.model import MODEL_NAME, open_forecast_model

register_model_opener(MODEL_NAME, open_forecast_model)

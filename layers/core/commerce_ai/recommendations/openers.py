"""Recommendations' artifact opener, found by `commerce_ai.artifacts.frameworks.discover_openers`: a ranker
validates only with the state files serving needs beside it."""

from __future__ import annotations

from commerce_ai.artifacts.frameworks import register_model_opener
from commerce_ai.recommendations.model import MODEL_NAME, open_recommender

register_model_opener(MODEL_NAME, open_recommender)
